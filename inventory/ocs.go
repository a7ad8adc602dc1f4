package inventory

import (
	"context"
	"time"
)

// OCSStore keeps what the OCS Inventory agent protocol adds to an agent
// machine: its User-Agent, its last prolog and inventory, the subnet it was
// last asked to discover and what its discovery really covered. The
// machine itself, its contacts and its inventory are the AgentStore's, and
// its discovery results are a scan run like any other.
type OCSStore interface {
	// RecordOCSProlog notes a prolog of an OCS agent machine (which must
	// exist: RecordAgentContact makes it) and the subnet its reply asked
	// it to discover, 0 and "" when none.
	RecordOCSProlog(ctx context.Context, p OCSProlog) error
	// RecordOCSInventory notes an inventory of an OCS agent machine and
	// what came of its discovery.
	RecordOCSInventory(ctx context.Context, r OCSInventory) error
	// OCSAgent returns an OCS agent machine's protocol state; ErrNotFound
	// when it never spoke OCS.
	OCSAgent(ctx context.Context, agentID int64) (OCSAgent, error)
	// OCSAgents lists every OCS agent machine, by host name.
	OCSAgents(ctx context.Context) ([]OCSAgent, error)
}

// OCSProlog is one prolog and the reply it got.
type OCSProlog struct {
	AgentID       int64
	UserAgent     string
	AskedSubnetID int64  // the subnet named in the IPDISCOVER option; 0 for none
	AskedCIDR     string // that subnet, as named
	// Note, when set, replaces the agent's note: what went differently
	// from what it was last asked (it never sent the inventory that
	// should have followed). An empty Note keeps the note as it is.
	Note string
}

// OCSInventory is one inventory upload and what its IPDISCOVER section
// came to.
type OCSInventory struct {
	AgentID   int64
	UserAgent string
	Gateway   string // its default gateway, as it reported it
	// Discovered says the upload had IPDISCOVER results; the fields below
	// are kept from the previous upload when it had none.
	Discovered      bool
	ScannedCIDR     string // the network its results belong to
	ScannedSubnetID int64  // the subnet they were recorded in; 0 when none holds them
	ScanID          int64  // the run they were recorded under
	Hosts           int
	Ignored         int
	// Note says what went differently from what was asked ("" when
	// nothing did); it replaces the previous note.
	Note string
}

// OCSAgent is an OCS agent machine's protocol state.
type OCSAgent struct {
	AgentID         int64     `json:"agent_id"`
	UID             string    `json:"uid"` // its DEVICEID
	Hostname        string    `json:"hostname"`
	UserAgent       string    `json:"user_agent"`
	LastProlog      time.Time `json:"last_prolog,omitzero"`
	LastInventory   time.Time `json:"last_inventory,omitzero"`
	Gateway         string    `json:"gateway,omitempty"`
	AskedSubnetID   int64     `json:"asked_subnet_id,omitempty"`
	AskedCIDR       string    `json:"asked_cidr,omitempty"`
	AskedAt         time.Time `json:"asked_at,omitzero"`
	ScannedCIDR     string    `json:"scanned_cidr,omitempty"`
	ScannedSubnetID int64     `json:"scanned_subnet_id,omitempty"`
	ScannedAt       time.Time `json:"scanned_at,omitzero"`
	LastScanID      int64     `json:"last_scan_id,omitempty"`
	Hosts           int       `json:"hosts"`
	Ignored         int       `json:"ignored"`
	Note            string    `json:"note,omitempty"`
}
