package inventory

import (
	"context"
	"net/netip"
	"time"
)

// ElectionStore is the store side of the election of scanners: its input
// (agents with their NICs and measures, subnets, pins, "never" marks, scan
// standings) and its memory (seats and the event log). The election
// itself is computed elsewhere (package inventory/election, called by
// web); the store only keeps what it needs between rounds.
type ElectionStore interface {
	// ElectionInput reads everything a round depends on, consistently (one
	// read transaction). Agents with the same capabilities share one
	// Capabilities slice: read it, do not modify it.
	ElectionInput(ctx context.Context) (ElectionInput, error)
	// SaveElection replaces the seats with seats and appends events, in one
	// transaction. A seat already stored for the same agent, subnet and pin
	// keeps its stored score and reason (rounds recompute them; only who
	// sits where is worth a write). Seats or events naming a subnet or
	// agent deleted meanwhile are dropped, not an error.
	SaveElection(ctx context.Context, seats []ElectionSeat, events []ElectionEvent) error
	// ElectionEvents lists seat changes, newest first.
	ElectionEvents(ctx context.Context, q ElectionEventQuery) ([]ElectionEvent, error)
	// PruneElectionEvents deletes events older than before.
	PruneElectionEvents(ctx context.Context, before time.Time) (int, error)
	// SetElectionPin pins (or unpins) an agent to a subnet: it takes a seat
	// there whatever its score while it is alive. ErrNotFound when either
	// does not exist.
	SetElectionPin(ctx context.Context, subnetID, agentID int64, pinned bool, by string) error
	// SetAgentNever marks (or unmarks) an agent that must never scan.
	SetAgentNever(ctx context.Context, agentID int64, never bool, by string) error
	// SetSubnetNever marks (or unmarks) a subnet no agent may scan.
	SetSubnetNever(ctx context.Context, subnetID int64, never bool, by string) error
	// UpdateScanStanding applies fn to the standing of an agent's scans of a
	// subnet (the zero standing when none is stored) and stores its result,
	// atomically. ErrNotFound when the subnet or agent does not exist.
	UpdateScanStanding(ctx context.Context, subnetID, agentID int64, fn func(ScanStanding) ScanStanding) (ScanStanding, error)
	// DismissAutoSubnet remembers that an admin deleted the "auto" subnet
	// cidr, so the election does not create it again.
	DismissAutoSubnet(ctx context.Context, cidr netip.Prefix, by string) error
	// DismissedAutoSubnets lists the networks DismissAutoSubnet recorded.
	DismissedAutoSubnets(ctx context.Context) ([]netip.Prefix, error)
}

// ElectionAgent is an agent machine as the election sees it.
type ElectionAgent struct {
	ID          int64
	UID         string
	Hostname    string
	Kind        AgentKind
	LastContact time.Time
	Fidelity    int
	Quality     float64 // running mean of days between contacts
	// Capabilities, PollInterval and Revoked are the agent protocol's
	// (migration 0006): "raw_sockets" means it may open raw sockets;
	// PollInterval is 0 when unknown.
	Capabilities []string
	PollInterval time.Duration
	Revoked      bool
	Never        bool // an admin said it must never scan
	NICs         []NIC
}

// CapRawSockets is the capability of agents that may open raw sockets.
const CapRawSockets = "raw_sockets"

// ElectionSeat is an agent elected to scan a subnet.
type ElectionSeat struct {
	SubnetID  int64     `json:"subnet_id"`
	AgentID   int64     `json:"agent_id"`
	ElectedAt time.Time `json:"elected_at"`
	Score     float64   `json:"score"`
	Pinned    bool      `json:"pinned"`
	Reason    string    `json:"reason"`
}

// ElectionPin is an admin's order that an agent scans a subnet.
type ElectionPin struct {
	SubnetID int64     `json:"subnet_id"`
	AgentID  int64     `json:"agent_id"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
}

// ScanStanding is how an agent's scans of a subnet have been going: failed
// scans in a row, demotions in a row and the cool-down they earned.
type ScanStanding struct {
	SubnetID      int64     `json:"subnet_id"`
	AgentID       int64     `json:"agent_id"`
	Failures      int       `json:"failures"`
	Demotions     int       `json:"demotions"`
	LastError     string    `json:"last_error,omitempty"`
	LastAt        time.Time `json:"last_at,omitzero"`
	CooldownUntil time.Time `json:"cooldown_until,omitzero"`
}

// ElectionInput is what a round of the election reads.
type ElectionInput struct {
	Agents       []ElectionAgent
	Subnets      []Subnet
	NeverSubnets []int64
	Seats        []ElectionSeat
	Pins         []ElectionPin
	Standings    []ScanStanding
}

// ElectionEvent is a change of seat: elected, replaced, expired, demoted
// or released. For replaced, AgentID took the seat from ReplacedID.
type ElectionEvent struct {
	ID           int64     `json:"id"`
	At           time.Time `json:"at"`
	Kind         string    `json:"kind"`
	SubnetID     int64     `json:"subnet_id"`
	AgentID      int64     `json:"agent_id,omitempty"`
	AgentName    string    `json:"agent_name"`
	ReplacedID   int64     `json:"replaced_id,omitempty"`
	ReplacedName string    `json:"replaced_name,omitempty"`
	Score        float64   `json:"score"`
	OldScore     float64   `json:"old_score,omitempty"`
	Reason       string    `json:"reason"`
	Why          string    `json:"why"` // what triggered the round
}

// ElectionEventQuery selects events, newest first. Zero fields do not
// filter.
type ElectionEventQuery struct {
	SubnetID int64
	AgentID  int64 // as the agent or the one replaced
	Limit    int   // default 100, at most 1000
}
