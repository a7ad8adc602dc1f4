package inventory

import (
	"errors"
	"fmt"
	"time"

	"github.com/lanscout/lanscout/typing"
)

// Errors callers branch on; every store error that means one of these wraps
// it, so errors.Is works through the added context.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
	ErrInvalid  = errors.New("invalid")
	// ErrExpired is returned for a session or token past its expiry.
	ErrExpired = errors.New("expired")
	// ErrBadCredentials is returned by Authenticate for an unknown user, a
	// wrong password or a disabled account alike, so callers cannot tell
	// which (and neither can whoever is guessing).
	ErrBadCredentials = errors.New("bad username or password")
	// ErrUIDTaken is returned when an agent's UID already belongs to an
	// agent of another kind (ours or OCS): storing would turn that
	// machine's record, its NICs and its seats into the caller's. It
	// wraps ErrConflict.
	ErrUIDTaken = fmt.Errorf("%w: the agent UID belongs to an agent of another kind", ErrConflict)
)

// ScannerKind says what kind of program saw something.
type ScannerKind string

// The scanner kinds.
const (
	ScannerServer    ScannerKind = "server"
	ScannerAgent     ScannerKind = "agent"
	ScannerSatellite ScannerKind = "satellite"
)

// Scanner names who ran a scan: the server itself, an agent (by its UID) or
// a satellite (by its name).
type Scanner struct {
	Kind ScannerKind `json:"kind"`
	ID   string      `json:"id"`
}

// ScanPolicy says whether a subnet may be scanned at all.
type ScanPolicy string

// The scan policies. A denied subnet still holds what agents report about
// their own machines in it; nobody sweeps it.
const (
	ScanAllow ScanPolicy = "allow"
	ScanDeny  ScanPolicy = "deny"
)

// Schedule says when a subnet is scanned: every Every, or daily at At
// ("HH:MM", in the server's time zone). The zero Schedule means on demand
// only.
type Schedule struct {
	Every time.Duration `json:"every,omitempty"`
	At    string        `json:"at,omitempty"`
}

// Subnet is one network lanscout keeps an inventory of.
type Subnet struct {
	ID          int64      `json:"id"`
	CIDR        string     `json:"cidr"` // canonical network form, e.g. "10.1.2.0/24"
	Name        string     `json:"name"`
	Site        string     `json:"site"`
	Tags        []string   `json:"tags"`
	Schedule    Schedule   `json:"schedule"`
	Method      string     `json:"method"`      // a discover.Method; "" means auto
	Credentials []string   `json:"credentials"` // SNMP credential names, tried in order
	Policy      ScanPolicy `json:"policy"`
	// GoneAfter is how many complete scans in a row may miss a device before
	// it is declared gone. Default 3.
	GoneAfter int `json:"gone_after"`
	// MaxScanners caps the elected scanners (agents issue). Default 1, at most 3.
	MaxScanners int       `json:"max_scanners"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
}

// DeviceState is whether a device is still there.
type DeviceState string

// The device states.
const (
	StateUp   DeviceState = "up"
	StateGone DeviceState = "gone"
)

// MatchKind says how a discovered device was linked to an agent machine,
// strongest first. Only MatchMAC is certain; the others are the fallbacks
// for docks, USB NICs and randomised Wi-Fi MACs, and the UI says so.
type MatchKind string

// The match kinds.
const (
	MatchNone     MatchKind = ""
	MatchMAC      MatchKind = "mac"
	MatchSerial   MatchKind = "serial"
	MatchSysName  MatchKind = "sysname"
	MatchHostname MatchKind = "hostname"
)

// Status is the OCS-style standing of a device in its subnet.
type Status string

// The statuses, as OCS users know them. A device linked to an agent is
// inventoried whether or not an admin also identified it.
const (
	Inventoried    Status = "inventoried"
	Identified     Status = "identified"
	NonInventoried Status = "non-inventoried"
)

// Classification is typing's verdict as stored.
type Classification struct {
	Category   typing.Category `json:"category"`
	Vendor     string          `json:"vendor"`
	Model      string          `json:"model"`
	Serial     string          `json:"serial"`
	Confidence float64         `json:"confidence"`
	Reasons    []string        `json:"reasons"`
}

// Identification is what an admin (or an admin rule) said a device is. It
// wins over the classification wherever both say something.
type Identification struct {
	Category typing.Category `json:"category,omitempty"`
	Name     string          `json:"name,omitempty"`
	Notes    string          `json:"notes,omitempty"`
	By       string          `json:"by"` // a username, or "rule:NAME"
	At       time.Time       `json:"at"`
}

// SNMPFacts is what a device said about itself over SNMP, last time it
// answered.
type SNMPFacts struct {
	Version     string    `json:"version"`
	Credential  string    `json:"credential"` // the name, never the secret
	SysName     string    `json:"sys_name"`
	SysDescr    string    `json:"sys_descr"`
	SysObjectID string    `json:"sys_object_id"`
	SysLocation string    `json:"sys_location"`
	SysContact  string    `json:"sys_contact"`
	UptimeS     int64     `json:"uptime_s"`
	At          time.Time `json:"at"`
}

// Device is one thing on a subnet. Its identity is its MAC when one is known,
// else its address within the subnet.
type Device struct {
	ID        int64       `json:"id"`
	SubnetID  int64       `json:"subnet_id"`
	IP        string      `json:"ip"`  // current address
	MAC       string      `json:"mac"` // current MAC, lower case, "" when never learnt
	MACVendor string      `json:"mac_vendor"`
	MACFlags  []string    `json:"mac_flags"` // "randomized" MACs make weak identities
	Name      string      `json:"name"`      // admin's name if set, else sysName, else DNS name
	Hostnames []string    `json:"hostnames"`
	State     DeviceState `json:"state"`
	// Category is the effective category: the admin's when identified, else
	// the classification's.
	Category       typing.Category `json:"category"`
	Vendor         string          `json:"vendor"`
	Model          string          `json:"model"`
	Serial         string          `json:"serial"`
	Classification Classification  `json:"classification"`
	Identification *Identification `json:"identification,omitempty"`
	SNMP           *SNMPFacts      `json:"snmp,omitempty"`
	Status         Status          `json:"status"`
	AgentID        int64           `json:"agent_id,omitempty"`
	Match          MatchKind       `json:"match,omitempty"`
	FoundBy        []string        `json:"found_by"`
	MissedScans    int             `json:"missed_scans"`
	FirstSeen      time.Time       `json:"first_seen"`
	LastSeen       time.Time       `json:"last_seen"`
}

// SightingKind is what was seen.
type SightingKind string

// The sighting kinds.
const (
	SightIP   SightingKind = "ip"
	SightMAC  SightingKind = "mac"
	SightName SightingKind = "name"
)

// Sighting is one value (address, MAC or name) seen on a device by one
// scanner, with when it was seen first and last.
type Sighting struct {
	Kind      SightingKind `json:"kind"`
	Value     string       `json:"value"`
	Scanner   Scanner      `json:"scanner"`
	FirstSeen time.Time    `json:"first_seen"`
	LastSeen  time.Time    `json:"last_seen"`
	Count     int          `json:"count"`
}

// DeviceDetail is a device with its history.
type DeviceDetail struct {
	Device
	Sightings []Sighting `json:"sightings"`
	Events    []Event    `json:"events"`
	Agent     *Agent     `json:"agent,omitempty"`
}

// EventKind names what happened.
type EventKind string

// The event kinds generated on ingest.
const (
	EventNewDevice       EventKind = "new_device"
	EventGone            EventKind = "gone"
	EventReturned        EventKind = "returned"
	EventIPChanged       EventKind = "ip_changed"
	EventMACChanged      EventKind = "mac_changed"
	EventCategoryChanged EventKind = "category_changed"
	EventAgentLinked     EventKind = "agent_linked"
)

// Event is something the inventory noticed. Old and New hold the values
// that changed, when something did.
type Event struct {
	ID       int64     `json:"id"`
	At       time.Time `json:"at"`
	Kind     EventKind `json:"kind"`
	SubnetID int64     `json:"subnet_id,omitempty"`
	DeviceID int64     `json:"device_id,omitempty"`
	ScanID   int64     `json:"scan_id,omitempty"`
	Old      string    `json:"old,omitempty"`
	New      string    `json:"new,omitempty"`
	Message  string    `json:"message"`
}

// ScanStatus is where a scan run stands.
type ScanStatus string

// The scan statuses. Interrupted means the process died mid-run: what it
// recorded is kept, but it does not count as a scan that missed anyone.
const (
	ScanRunning     ScanStatus = "running"
	ScanDone        ScanStatus = "done"
	ScanIncomplete  ScanStatus = "incomplete"
	ScanFailed      ScanStatus = "failed"
	ScanInterrupted ScanStatus = "interrupted"
)

// MethodPassive is the method of a run that only listened (ARP and DHCP
// heard between sweeps): it neither ends nor counts as a scan.
const MethodPassive = "passive"

// ScanStats are a run's statistics: the engine's own plus what the store
// made of them.
type ScanStats struct {
	Addresses    int   `json:"addresses"`
	ProbesSent   int   `json:"probes_sent"`
	Responders   int   `json:"responders"`
	SNMPProbed   int   `json:"snmp_probed"`
	SNMPAnswered int   `json:"snmp_answered"`
	SweepPasses  int   `json:"sweep_passes"`
	SweepMS      int64 `json:"sweep_ms"`
	Recorded     int   `json:"recorded"`    // devices recorded
	NewDevices   int   `json:"new_devices"` // of which new
	Gone         int   `json:"gone"`        // devices declared gone when the run finished
}

// ScanRun is one scan of one subnet by one scanner.
type ScanRun struct {
	ID       int64      `json:"id"`
	SubnetID int64      `json:"subnet_id"`
	Scanner  Scanner    `json:"scanner"`
	Method   string     `json:"method"`
	Status   ScanStatus `json:"status"`
	Started  time.Time  `json:"started"`
	Finished time.Time  `json:"finished,omitzero"`
	Stats    ScanStats  `json:"stats"`
	Warnings []string   `json:"warnings"`
	Error    string     `json:"error,omitempty"`
}

// ScanEnd is what a scanner says when a run ends.
type ScanEnd struct {
	Stats      ScanStats // engine statistics; Recorded/NewDevices/Gone are the store's
	Warnings   []string
	Incomplete bool   // cancelled or cut short: no device counts as missed
	Error      string // set when the run failed
}

// AgentKind says what software an agent machine runs.
type AgentKind string

// The agent kinds.
const (
	AgentLanscout AgentKind = "lanscout"
	AgentOCS      AgentKind = "ocs"
)

// NICKind is the kind of a network interface as its machine reports it.
type NICKind string

// The NIC kinds.
const (
	NICWired    NICKind = "wired"
	NICWireless NICKind = "wireless"
	NICVirtual  NICKind = "virtual"
	NICUnknown  NICKind = ""
)

// NIC is one network interface of an agent machine.
type NIC struct {
	Name      string   `json:"name"`
	MAC       string   `json:"mac"`
	Kind      NICKind  `json:"kind"`
	State     string   `json:"state"`     // "up", "down", as reported
	Addresses []string `json:"addresses"` // with prefix length, e.g. "10.0.0.5/24"
}

// AgentInventory is what an agent says about its own machine.
type AgentInventory struct {
	UID          string    `json:"uid"` // stable per machine: our agent's id, or the whole OCS DEVICEID (host name and install time, as OCS keys it)
	Kind         AgentKind `json:"kind"`
	Hostname     string    `json:"hostname"`
	OSName       string    `json:"os_name"`
	OSVersion    string    `json:"os_version"`
	Kernel       string    `json:"kernel"`
	Manufacturer string    `json:"manufacturer"`
	Model        string    `json:"model"`
	Serial       string    `json:"serial"`
	UUID         string    `json:"uuid"`
	Version      string    `json:"version"` // agent software version
	NICs         []NIC     `json:"nics"`
	// Raw keeps sections lanscout does not model yet (OCS XML), for later.
	Raw string `json:"-"`
}

// Agent is an agent machine as stored.
type Agent struct {
	ID int64 `json:"id"`
	AgentInventory
	FirstContact  time.Time `json:"first_contact"`
	LastContact   time.Time `json:"last_contact"`
	LastInventory time.Time `json:"last_inventory"`
	// Fidelity and Quality are OCS's election measures: the number of
	// contacts, and the running mean of days between contacts.
	Fidelity int     `json:"fidelity"`
	Quality  float64 `json:"quality"`
	// Capabilities are what the agent said it can do ("raw_sockets": it
	// may open raw sockets, so it can ARP-sweep); PollInterval how often it
	// said it calls; Revoked agents are refused (agents issue).
	Capabilities []string      `json:"capabilities"`
	PollInterval time.Duration `json:"-"` // the API shows it in seconds
	Revoked      bool          `json:"revoked"`
}

// SubnetCounts are the OCS-style numbers of one subnet.
type SubnetCounts struct {
	SubnetID int64 `json:"subnet_id"`
	// Inventoried counts agent machines in the subnet: linked to a device
	// seen there, or with a NIC address inside it.
	Inventoried int `json:"inventoried"`
	// NonInventoried counts devices up with no agent and no identification.
	NonInventoried int `json:"non_inventoried"`
	// Identified counts devices with no agent that an admin or an admin
	// rule typed.
	Identified int `json:"identified"`
	Up         int `json:"up"`
	Gone       int `json:"gone"`
}

// Coverage is the share of devices up that are accounted for (inventoried
// or identified), 0..1; 1 for an empty subnet.
func (c SubnetCounts) Coverage() float64 {
	known := c.Inventoried + c.Identified
	all := known + c.NonInventoried
	if all == 0 {
		return 1
	}
	return float64(known) / float64(all)
}
