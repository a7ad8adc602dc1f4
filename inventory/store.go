package inventory

import (
	"context"
	"time"

	"github.com/lanscout/lanscout/scan"
	"github.com/lanscout/lanscout/snmp"
	"github.com/lanscout/lanscout/typing"
)

// Store is the whole inventory. Every method takes a context and is safe for
// concurrent use; writes are serialised by the implementation.
//
// It is split by concern so that code needing one part (the scheduler needs
// SubnetStore and ScanStore, the login handler UserStore) can ask for no
// more.
type Store interface {
	SubnetStore
	ScanStore
	DeviceStore
	AgentStore
	UserStore
	CredentialStore
	AuditStore
	ElectionStore   // election.go: who scans each subnet, and why
	EnrollmentStore // enrollment.go: enrollment keys, agent tokens, agent tasks
	WakeStore       // wake.go: wake jobs and satellites
	SatelliteStore  // satellite.go: SSH satellites, their keys and subnets
	WebhookStore    // webhook.go: webhooks and their deliveries
	TypeRuleStore   // typerule.go: admin device types kept in the store, and settings
	OCSStore        // ocs.go: what the OCS agent protocol adds to agent machines
	Close() error
}

// SubnetStore keeps the subnets and their scan policy.
type SubnetStore interface {
	// CreateSubnet validates s (see Subnet.Validate), fills its defaults and
	// stores it. A subnet overlapping an existing one is refused with
	// ErrConflict: a device must belong to exactly one subnet.
	CreateSubnet(ctx context.Context, s Subnet) (Subnet, error)
	UpdateSubnet(ctx context.Context, s Subnet) (Subnet, error)
	// DeleteSubnet removes the subnet with its devices, sightings and scans.
	DeleteSubnet(ctx context.Context, id int64) error
	Subnet(ctx context.Context, id int64) (Subnet, error)
	Subnets(ctx context.Context) ([]Subnet, error)
	// SubnetCounts returns the OCS-style counts of every subnet.
	SubnetCounts(ctx context.Context) ([]SubnetCounts, error)
}

// ScanStore ingests scan results as they stream in.
type ScanStore interface {
	// BeginScan opens a run of subnetID by scanner and returns it. A run
	// the same scanner left open on the subnet is closed as interrupted. A
	// subnet whose policy is deny refuses with ErrInvalid.
	BeginScan(ctx context.Context, subnetID int64, by Scanner, method string) (ScanRun, error)
	// RecordDevice stores one device of a running scan in its own
	// transaction, merges it with what is known (identity by MAC, else by
	// address), links it to an agent machine when one matches and records
	// the events it causes. It returns the device's id.
	RecordDevice(ctx context.Context, scanID int64, d scan.Device) (int64, error)
	// RecordDevices is RecordDevice for many devices in one transaction, for
	// scanners that upload a whole report at once.
	RecordDevices(ctx context.Context, scanID int64, ds []scan.Device) ([]int64, error)
	// FinishScan closes a run. A complete run counts a miss for every
	// device of the subnet nobody saw since it began, and declares gone
	// those that reach the subnet's GoneAfter; an incomplete or failed run
	// counts nothing. When a scan is cancelled (shutdown), finish it with
	// Incomplete under a context that outlives the scan's, e.g.
	// context.WithoutCancel, or the next start marks it interrupted.
	FinishScan(ctx context.Context, scanID int64, end ScanEnd) (ScanRun, error)
	ScanRun(ctx context.Context, id int64) (ScanRun, error)
	// ScanRuns lists a subnet's runs, newest first (subnetID 0: all).
	ScanRuns(ctx context.Context, subnetID int64, limit int) ([]ScanRun, error)
	RunningScan(ctx context.Context, subnetID int64) (ScanRun, bool, error) // newest running non-passive run, by anyone
	// PruneScans deletes runs finished before before, keeping each
	// subnet's newest run and newest finished run, runs open agent tasks
	// still feed and OCS agents' last discovery runs. It returns how many
	// it deleted.
	PruneScans(ctx context.Context, before time.Time) (int, error)
}

// DeviceStore answers questions about devices and lets admins identify them.
type DeviceStore interface {
	Devices(ctx context.Context, q DeviceQuery) (DevicePage, error)
	// EachDevice calls fn for every device matching q in q's order,
	// ignoring Limit and Offset, streaming rather than paging: the CSV and
	// JSON downloads of 100k devices. An error from fn stops it and is
	// returned.
	EachDevice(ctx context.Context, q DeviceQuery, fn func(Device) error) error
	Device(ctx context.Context, id int64) (DeviceDetail, error)
	// DeviceEvidence returns the SNMP evidence last stored for a device, so
	// an admin rule can be tried on it before it is saved; nil when the
	// device never answered SNMP.
	DeviceEvidence(ctx context.Context, id int64) (*snmp.Evidence, error)
	// Identify sets (or, with a zero Identification, clears) what an admin
	// says a device is. It wins over the classification.
	Identify(ctx context.Context, deviceID int64, id Identification) error
	DeleteDevice(ctx context.Context, id int64) error
	Events(ctx context.Context, q EventQuery) ([]Event, error)
	Dashboard(ctx context.Context) (Dashboard, error)
	// PruneEvents deletes events from before before that the webhooks
	// have already been told of, and returns how many.
	PruneEvents(ctx context.Context, before time.Time) (int, error)
	// Vendors lists the devices' vendors as DeviceQuery.Vendor matches
	// them, alphabetically, at most limit (a default when 0): the devices
	// page's vendor filter offers them.
	Vendors(ctx context.Context, limit int) ([]string, error)
}

// AgentStore keeps agent machines and their inventories.
type AgentStore interface {
	// RecordAgentInventory stores what an agent says about its machine,
	// replacing its previous inventory, and (re)links the discovered devices
	// that match it. ErrUIDTaken when the UID belongs to an agent of
	// another kind, which is left as it was.
	RecordAgentInventory(ctx context.Context, inv AgentInventory) (Agent, error)
	// RecordAgentContact counts one contact for the election measures;
	// ErrUIDTaken as for RecordAgentInventory.
	RecordAgentContact(ctx context.Context, uid string, kind AgentKind) (Agent, error)
	Agent(ctx context.Context, id int64) (Agent, error)
	AgentByUID(ctx context.Context, uid string) (Agent, error)
	Agents(ctx context.Context, q AgentQuery) ([]Agent, error)
	OnlineAgents(ctx context.Context, rule OnlineRule) (int, error) // not revoked, heard from within rule
	DeleteAgent(ctx context.Context, id int64) error
}

// UserStore keeps users, sessions and API tokens.
type UserStore interface {
	CreateUser(ctx context.Context, username, password string, role Role) (User, error)
	SetPassword(ctx context.Context, userID int64, password string) error
	UpdateUser(ctx context.Context, userID int64, role Role, disabled bool) (User, error)
	DeleteUser(ctx context.Context, userID int64) error
	User(ctx context.Context, id int64) (User, error)
	UserByName(ctx context.Context, username string) (User, error)
	Users(ctx context.Context) ([]User, error)
	// Authenticate checks a password; it fails with ErrBadCredentials for
	// any reason, taking about the same time whether or not the user exists.
	Authenticate(ctx context.Context, username, password string) (User, error)

	// CreateSession returns a new session token (to put in a cookie; only
	// its hash is stored).
	CreateSession(ctx context.Context, userID int64, ttl time.Duration, meta SessionMeta) (string, Session, error)
	// Session resolves a token to its live session and user. Expired
	// sessions fail with ErrExpired, unknown ones with ErrNotFound, as do
	// sessions of disabled users.
	Session(ctx context.Context, token string) (Session, User, error)
	DeleteSession(ctx context.Context, token string) error
	DeleteUserSessions(ctx context.Context, userID int64) error
	PurgeExpiredSessions(ctx context.Context) (int, error)

	// CreateAPIToken returns the token in clear, once; only its hash is kept.
	CreateAPIToken(ctx context.Context, name string, role Role, createdBy int64, expires time.Time) (string, APIToken, error)
	// AuthenticateAPIToken resolves a bearer token and notes its use.
	AuthenticateAPIToken(ctx context.Context, token string) (APIToken, error)
	APITokens(ctx context.Context) ([]APIToken, error)
	RevokeAPIToken(ctx context.Context, id int64) error
}

// CredentialStore keeps SNMP credentials sealed at rest.
type CredentialStore interface {
	// PutCredential validates c and creates or replaces the credential named
	// c.Name.
	PutCredential(ctx context.Context, c snmp.Credential) (Credential, error)
	DeleteCredential(ctx context.Context, name string) error
	// Credentials lists credentials without their secrets.
	Credentials(ctx context.Context) ([]Credential, error)
	// RevealCredentials returns the named credentials with their secrets,
	// in the order asked. It is meant for one caller: the code that hands
	// credentials to a scanner. Nothing else needs secrets.
	// The secrets come back as snmp.Secret, which masks itself when printed
	// or marshalled.
	RevealCredentials(ctx context.Context, names []string) ([]snmp.Credential, error)
}

// AuditStore is the append-only record of what people did.
type AuditStore interface {
	Audit(ctx context.Context, e AuditEntry) error
	AuditLog(ctx context.Context, q AuditQuery) ([]AuditEntry, int, error)
	// PruneAudit deletes entries from before before, for servers set to
	// keep the log for a limited time, and returns how many.
	PruneAudit(ctx context.Context, before time.Time) (int, error)
}

// DeviceSort names a sort key of the device list.
type DeviceSort string

// The sort keys.
const (
	SortIP        DeviceSort = "ip"
	SortName      DeviceSort = "name"
	SortMAC       DeviceSort = "mac"
	SortVendor    DeviceSort = "vendor"
	SortCategory  DeviceSort = "category"
	SortFirstSeen DeviceSort = "first_seen"
	SortLastSeen  DeviceSort = "last_seen"
)

// DeviceQuery selects a page of devices. Zero fields do not filter.
type DeviceQuery struct {
	// Search matches a substring of the address, MAC, name, vendor or model,
	// case-insensitively. A MAC may be given with any separators.
	Search   string
	SubnetID int64
	Category typing.Category
	State    DeviceState
	Vendor   string // exact, case-insensitive
	Status   Status
	AgentID  int64
	Sort     DeviceSort // default SortIP
	Desc     bool
	// Limit defaults to 50 and is capped at 1000; Offset counts from 0.
	// Offset pagination with a total is what page-numbered tables need; with
	// an indexed sort key it stays well under the UI's latency budget at
	// 100k devices.
	Limit, Offset int

	// AnsweredSNMP keeps devices that answered SNMP at least once (the
	// Prometheus targets): monitoring.
	AnsweredSNMP bool
}

// DevicePage is one page of devices and how many match in all.
type DevicePage struct {
	Devices []Device `json:"devices"`
	Total   int      `json:"total"`
}

// EventQuery selects events, newest first. Zero fields do not filter.
type EventQuery struct {
	DeviceID int64
	SubnetID int64
	Kinds    []EventKind
	Since    time.Time
	AfterID  int64 // only events with a larger id: lets a notifier follow the log
	Limit    int   // default 100
}

// AgentQuery selects agent machines. Zero fields do not filter.
type AgentQuery struct {
	Search   string // hostname, serial or UID substring
	SubnetID int64  // agents with a NIC address in the subnet
	Limit    int    // default 100
	Offset   int
}

// Dashboard holds the numbers of the front page.
type Dashboard struct {
	Devices     int             `json:"devices"` // up
	Gone        int             `json:"gone"`
	Agents      int             `json:"agents"`
	ByCategory  []CategoryCount `json:"by_category"` // devices up, every category, typing's order
	NewThisWeek int             `json:"new_this_week"`
	// NewPerDay is devices first seen on each of the last 30 days (UTC),
	// oldest first, for the "discovered over time" picture.
	NewPerDay []DayCount       `json:"new_per_day"`
	Subnets   []SubnetCoverage `json:"subnets"`
	Recent    []Event          `json:"recent_events"` // the last 20
}

// CategoryCount is how many devices are of one category.
type CategoryCount struct {
	Category typing.Category `json:"category"`
	Count    int             `json:"count"`
}

// DayCount is a count for one UTC day.
type DayCount struct {
	Day   time.Time `json:"day"`
	Count int       `json:"count"`
}

// SubnetCoverage is one subnet with its counts and its last run.
type SubnetCoverage struct {
	Subnet   Subnet       `json:"subnet"`
	Counts   SubnetCounts `json:"counts"`
	Coverage float64      `json:"coverage"`
	LastScan *ScanRun     `json:"last_scan,omitempty"`
}
