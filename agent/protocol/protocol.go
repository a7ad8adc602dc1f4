// Package protocol is the wire contract between lanscout agents and the
// server: the JSON documents an agent sends (enrollment, hello, inventory,
// task results) and the tasks the server hands out, the paths they go to,
// and the limits both sides hold to. Both sides import it; it knows
// nothing of HTTP handlers, the store or how tasks are carried out.
//
// The conversation, all over HTTPS the agent has verified, all initiated
// by the agent (it listens on no port):
//
//	POST /agent/v1/enroll            EnrollRequest → EnrollReply (the key buys a token)
//	POST /agent/v1/hello             Hello → HelloReply (one contact; bearer token from here on)
//	PUT  /agent/v1/inventory         Inventory → 204 (when its hash changed)
//	GET  /agent/v1/tasks?wait=25s    → TaskList (long poll; empty on timeout)
//	POST /agent/v1/tasks/{id}/result TaskResult (gzip) → ResultReply
//
// Results come in numbered batches (Batch 0, 1, ...; the last has Final)
// so that a /16 sweep need not fit one upload; a batch the server already
// has is acknowledged as a duplicate and stored once.
package protocol

import (
	"time"

	"github.com/lanscout/lanscout/scan"
	"github.com/lanscout/lanscout/snmp"
)

// Version is the protocol version; it changes when a change would make
// an older agent misread the server or the reverse.
const Version = 1

// The paths of the agent API. They live outside /api/v1: agents
// authenticate with their own tokens, not with sessions or API tokens.
const (
	PathEnroll    = "/agent/v1/enroll"
	PathHello     = "/agent/v1/hello"
	PathInventory = "/agent/v1/inventory"
	PathTasks     = "/agent/v1/tasks"
)

// ResultPath is where the result of task id is uploaded.
func ResultPath(id string) string { return PathTasks + "/" + id + "/result" }

// Limits both sides hold to. The server refuses bigger bodies with 413
// and stores nothing of them; the agent splits its device lists so that a
// batch stays well inside them.
const (
	// MaxBodyBytes caps a request body as sent (compressed): the web
	// server's own default cap on every request body.
	MaxBodyBytes = 1 << 20
	// MaxDecodedBytes caps a body once decompressed: a small gzip bomb
	// must not become gigabytes of JSON.
	MaxDecodedBytes = 32 << 20
	// MaxBatchDevices caps the devices of one result batch.
	MaxBatchDevices = 2000
	// MaxWait is the longest long poll the server holds.
	MaxWait = 30 * time.Second
	// MaxTasksPerPoll caps the tasks handed out in one poll.
	MaxTasksPerPoll = 16
)

// Capability names something an agent can do that the server plans with.
type Capability string

// The capabilities.
const (
	// CapRawSockets: the agent may open raw and packet sockets (root or
	// CAP_NET_RAW), so it can ARP-sweep, listen passively and send raw
	// Ethernet magic packets.
	CapRawSockets Capability = "raw_sockets"
)

// AuthScheme is the Authorization scheme of agent tokens.
const AuthScheme = "Bearer"

// EnrollRequest trades an enrollment key for an agent token.
type EnrollRequest struct {
	Key string `json:"key"`
	// UID is the agent's own stable id (made at first start and kept in
	// its state directory), so that re-enrolling keeps its history.
	UID      string `json:"uid"`
	Hostname string `json:"hostname"`
	Version  string `json:"version"`
	// Addresses are the agent's addresses with prefix; a key limited to
	// subnets admits only agents with an address inside one of them.
	Addresses []string `json:"addresses"`
}

// EnrollReply carries the token, shown this once; the server keeps only
// its hash.
type EnrollReply struct {
	AgentID        int64  `json:"agent_id"`
	UID            string `json:"uid"`
	Token          string `json:"token"`
	PollIntervalMS int64  `json:"poll_interval_ms"`
}

// Hello is one contact: who the agent is now and what it can do.
type Hello struct {
	Version       string   `json:"version"` // the agent's software version
	Protocol      int      `json:"protocol"`
	Capabilities  []string `json:"capabilities"`
	Interfaces    []NIC    `json:"interfaces"`
	InventoryHash string   `json:"inventory_hash"` // of the inventory the agent last sent
	// PollIntervalMS is the interval the agent is running at.
	PollIntervalMS int64 `json:"poll_interval_ms"`
	// Running are the ids of the tasks it is carrying out.
	Running []string `json:"running,omitempty"`
}

// HelloReply tells the agent how to go on.
type HelloReply struct {
	AgentID        int64     `json:"agent_id"`
	PollIntervalMS int64     `json:"poll_interval_ms"`
	SendInventory  bool      `json:"send_inventory"` // the server's copy is missing or stale
	ServerTime     time.Time `json:"server_time"`
}

// NIC is one network interface as the agent sees it.
type NIC struct {
	Name      string   `json:"name"`
	MAC       string   `json:"mac"`
	Kind      string   `json:"kind"`  // "wired", "wireless", "virtual", or "" when unknown
	State     string   `json:"state"` // "up", "down", ... (operstate)
	Addresses []string `json:"addresses"`
	MTU       int      `json:"mtu,omitempty"`
	// Virtual says what kind of virtual interface: "bridge", "veth",
	// "tun", "loopback", ...
	Virtual string `json:"virtual,omitempty"`
}

// Inventory is what an agent says about its own machine.
type Inventory struct {
	Hash         string    `json:"hash"` // of the rest, as the agent computes it; echoed in Hello
	Hostname     string    `json:"hostname"`
	OSName       string    `json:"os_name"`
	OSVersion    string    `json:"os_version"`
	Kernel       string    `json:"kernel"`
	Arch         string    `json:"arch"`
	Manufacturer string    `json:"manufacturer"`
	Model        string    `json:"model"`
	Serial       string    `json:"serial"`
	UUID         string    `json:"uuid"`
	UptimeS      int64     `json:"uptime_s"`
	Boot         time.Time `json:"boot,omitzero"` // boot time, to the minute
	Version      string    `json:"version"`       // the agent's software version
	NICs         []NIC     `json:"nics"`
	Gateways     []string  `json:"gateways"` // default gateways
	DNS          []string  `json:"dns"`      // name servers from resolv.conf
	DNSSearch    []string  `json:"dns_search,omitempty"`
}

// TaskKind names what a task asks an agent to do.
type TaskKind string

// The task kinds.
const (
	TaskScan   TaskKind = "scan"
	TaskWake   TaskKind = "wake"
	TaskListen TaskKind = "listen"
)

// Task is one unit of work for an agent. ID makes uploads idempotent.
type Task struct {
	ID       string      `json:"id"`
	Kind     TaskKind    `json:"kind"`
	Deadline time.Time   `json:"deadline,omitzero"`
	Wake     *WakeTask   `json:"wake,omitempty"`
	Scan     *ScanTask   `json:"scan,omitempty"`
	Listen   *ListenTask `json:"listen,omitempty"`
}

// TaskList is the answer to a poll for tasks.
type TaskList struct {
	Tasks []Task `json:"tasks"`
}

// WakeTask asks an agent to send magic packets inside its own subnet.
type WakeTask struct {
	MACs []string `json:"macs"`
	// Subnet is the target subnet (CIDR); the agent sends on the interface
	// holding an address in it, raw Ethernet when it may, else UDP to the
	// subnet's directed broadcast.
	Subnet   string `json:"subnet"`
	Ports    []int  `json:"ports,omitempty"`    // UDP ports, default 9 and 7
	Password string `json:"password,omitempty"` // SecureOn, hex MAC-like form
	// Watch asks the agent, after sending, to probe the targets' last
	// known addresses until each answers or WatchMS passes, and to report
	// when each was seen (WakeSent.SeenAfterMS): the agent sits on the
	// segment, the server often does not. Optional: an older agent
	// ignores it and reports at once; an older server sends none.
	Watch      []WakeWatch `json:"watch,omitempty"`
	WatchMS    int64       `json:"watch_ms,omitempty"`    // how long to watch
	IntervalMS int64       `json:"interval_ms,omitempty"` // between probes; default 3000
}

// WakeWatch is a target to watch for: its MAC and last known IPv4
// address.
type WakeWatch struct {
	MAC string `json:"mac"`
	IP  string `json:"ip"`
}

// ScanTask asks an agent to scan a subnet with the same pipeline as
// `lanscout scan`.
type ScanTask struct {
	SubnetID int64  `json:"subnet_id"`
	Subnet   string `json:"subnet"` // CIDR
	Method   string `json:"method"` // a discover.Method; "" means auto
	// Rate caps probes per second (0: the engine's default); Retries is
	// how many more passes silent addresses get (-1: the default).
	Rate     int      `json:"rate,omitempty"`
	Retries  int      `json:"retries"`
	TCPPorts []uint16 `json:"tcp_ports,omitempty"`
	SNMP     SNMP     `json:"snmp"`
}

// SNMP are the SNMP settings of a scan task. The credentials travel in
// clear inside the verified TLS connection, only in the task as
// delivered; the agent keeps them in memory for the scan and never
// writes them down.
type SNMP struct {
	Port        uint16           `json:"port,omitempty"`
	TimeoutMS   int64            `json:"timeout_ms,omitempty"`
	Retries     int              `json:"retries"`
	Credentials []SNMPCredential `json:"credentials,omitempty"`
}

// SNMPCredential is an snmp.Credential with its secrets in clear, for
// the wire only (snmp.Secret masks itself when marshalled).
type SNMPCredential struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Community string `json:"community,omitempty"`
	User      string `json:"user,omitempty"`
	Auth      string `json:"auth,omitempty"`
	AuthPass  string `json:"auth_password,omitempty"`
	Priv      string `json:"priv,omitempty"`
	PrivPass  string `json:"priv_password,omitempty"`
	Context   string `json:"context,omitempty"`
}

// WireCredential puts c in wire form.
func WireCredential(c snmp.Credential) SNMPCredential {
	return SNMPCredential{
		Name: c.Name, Version: c.Version.String(), Community: string(c.Community), User: c.User,
		Auth: string(c.Auth), AuthPass: string(c.AuthPass), Priv: string(c.Priv), PrivPass: string(c.PrivPass),
		Context: c.Context,
	}
}

// Credential turns the wire form back into a checked snmp.Credential.
func (w SNMPCredential) Credential() (snmp.Credential, error) {
	v, err := snmp.ParseVersion(w.Version)
	if err != nil {
		return snmp.Credential{}, err
	}
	c := snmp.Credential{
		Name: w.Name, Version: v, Community: snmp.Secret(w.Community), User: w.User,
		Auth: snmp.AuthProto(w.Auth), AuthPass: snmp.Secret(w.AuthPass), Priv: snmp.PrivProto(w.Priv),
		PrivPass: snmp.Secret(w.PrivPass), Context: w.Context,
	}
	if err := c.Validate(); err != nil {
		return snmp.Credential{}, err
	}
	return c, nil
}

// ListenTask asks an agent to listen passively (ARP, DHCP) on its
// interface in Subnet for DurationMS and report the MACs it hears.
type ListenTask struct {
	SubnetID   int64  `json:"subnet_id"`
	Subnet     string `json:"subnet"`
	DurationMS int64  `json:"duration_ms"`
}

// TaskResult is what an agent uploads when a task ends, or, for scans
// and listens, one batch of what it found so far.
type TaskResult struct {
	TaskID string `json:"task_id"`
	// Batch numbers the uploads of one task from 0; Final marks the last.
	// A task with one upload sends Batch 0 with Final set.
	Batch    int           `json:"batch"`
	Final    bool          `json:"final"`
	Error    string        `json:"error,omitempty"` // the task failed as a whole
	Finished time.Time     `json:"finished"`
	Wake     *WakeResult   `json:"wake,omitempty"`
	Scan     *ScanResult   `json:"scan,omitempty"`
	Listen   *ListenResult `json:"listen,omitempty"`
}

// ResultReply acknowledges an upload.
type ResultReply struct {
	TaskID string `json:"task_id"`
	Batch  int    `json:"batch"`
	// Duplicate: the server had this batch already and stored nothing.
	Duplicate bool `json:"duplicate,omitempty"`
	Recorded  int  `json:"recorded"` // devices stored from this batch
}

// WakeResult says, per MAC, how each packet went.
type WakeResult struct {
	Sent []WakeSent `json:"sent"`
	// WatchedMS is how long after sending the agent reported (it watched
	// for the targets that long); 0 when it did not watch. With
	// SeenAfterMS it dates sending and waking on the server's clock
	// without trusting the agent's.
	WatchedMS int64 `json:"watched_ms,omitempty"`
}

// WakeSent is the outcome for one MAC.
type WakeSent struct {
	MAC    string `json:"mac"`
	Method string `json:"method"` // "raw" or "udp"
	Error  string `json:"error,omitempty"`
	// SeenAfterMS is when, after sending, the target answered the agent's
	// probe of its address; SeenBy how ("arp", "icmp", "tcp/22"). Both
	// empty when it was not watched or not seen.
	SeenAfterMS int64  `json:"seen_after_ms,omitempty"`
	SeenBy      string `json:"seen_by,omitempty"`
}

// ScanResult is a batch of a scan's devices; the final batch also
// carries the report's summary.
type ScanResult struct {
	Devices []Device `json:"devices"`
	// Summary is set on the final batch.
	Summary *ScanSummary `json:"summary,omitempty"`
}

// Device is a scanned device with the SNMP evidence the server stores
// (scan.Device leaves it out of its JSON).
type Device struct {
	scan.Device
	Evidence *snmp.Evidence `json:"evidence,omitempty"`
}

// ScanSummary is what a scan's report says beyond its devices.
type ScanSummary struct {
	Method     string           `json:"method"`
	DurationMS int64            `json:"duration_ms"`
	Stats      scan.ReportStats `json:"stats"`
	Warnings   []string         `json:"warnings"`
	Incomplete bool             `json:"incomplete,omitempty"`
}

// ListenResult is what a passive listen heard: one entry per MAC.
type ListenResult struct {
	Heard []Heard `json:"heard"`
}

// Heard is one MAC heard, with the address it claimed.
type Heard struct {
	MAC  string    `json:"mac"`
	IP   string    `json:"ip"`
	By   string    `json:"by"` // "arp", "dhcp"
	Seen time.Time `json:"seen"`
}

// Error is the body of every 4xx/5xx answer of the agent API.
type Error struct {
	Error string `json:"error"`
}
