package inventory

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Errors of enrollment and agent authentication.
var (
	// ErrRevoked is returned for a revoked enrollment key or agent.
	ErrRevoked = errors.New("revoked")
	// ErrOutOfScope is returned when an agent enrolls with a key limited
	// to subnets none of its addresses is in.
	ErrOutOfScope = errors.New("no address inside the enrollment key's subnets")
)

// EnrollmentStore is the store side of our own agents: the enrollment keys
// admins hand out, the per-agent tokens agents trade them for (only
// hashes are kept), and the tasks queued for agents with their results.
// Deciding which agent gets which task is the web server's.
type EnrollmentStore interface {
	// CreateEnrollmentKey returns the key in clear, once; only its hash is
	// kept. Subnets (CIDRs) limit which agents may enroll with it: those
	// with an address inside one of them; none means anywhere.
	CreateEnrollmentKey(ctx context.Context, k EnrollmentKey) (string, EnrollmentKey, error)
	EnrollmentKey(ctx context.Context, id int64) (EnrollmentKey, error)
	EnrollmentKeys(ctx context.Context) ([]EnrollmentKey, error)
	// RevokeEnrollmentKey stops the key enrolling anyone; with agentsToo
	// the agents enrolled with it are revoked as well (a leaked key).
	// It returns how many agents it revoked.
	RevokeEnrollmentKey(ctx context.Context, id int64, agentsToo bool) (int, error)
	DeleteEnrollmentKey(ctx context.Context, id int64) error

	// EnrollAgent checks the key (unknown: ErrBadCredentials; revoked:
	// ErrRevoked; expired: ErrExpired; out of its subnets: ErrOutOfScope),
	// creates the agent or finds it by UID (a revoked agent stays
	// revoked: ErrRevoked; one that has a token already, or is not a
	// lanscout agent: ErrConflict, until an admin deletes it), and
	// returns its new token.
	EnrollAgent(ctx context.Context, e Enrollment) (string, Agent, error)
	// AuthenticateAgent resolves an agent token: unknown tokens fail with
	// ErrBadCredentials, revoked agents with ErrRevoked.
	AuthenticateAgent(ctx context.Context, token string) (AgentAuth, error)
	// SetAgentRevoked revokes or reinstates an agent.
	SetAgentRevoked(ctx context.Context, agentID int64, revoked bool) error
	// SetAgentHello stores what an agent said in its hello: capabilities
	// and poll interval.
	SetAgentHello(ctx context.Context, agentID int64, capabilities []string, poll time.Duration) error
	// SetAgentInventoryHash notes the hash of the inventory last stored.
	SetAgentInventoryHash(ctx context.Context, agentID int64, hash string) error
	// AgentRaw returns the inventory document an agent last sent as
	// stored (Agent leaves it out), "" when none.
	AgentRaw(ctx context.Context, agentID int64) (string, error)

	// CreateAgentTask stores a pending task (ID made when empty) and
	// returns it.
	CreateAgentTask(ctx context.Context, t AgentTask) (AgentTask, error)
	AgentTask(ctx context.Context, id string) (AgentTask, error)
	AgentTasks(ctx context.Context, q AgentTaskQuery) ([]AgentTask, error)
	// ClaimAgentTasks marks up to limit of an agent's pending tasks
	// delivered and returns them, oldest first.
	ClaimAgentTasks(ctx context.Context, agentID int64, limit int) ([]AgentTask, error)
	// AdvanceAgentTask moves an open task's expected batch from batch to
	// batch+1; ErrConflict when the task is not open or expects another.
	AdvanceAgentTask(ctx context.Context, id string, batch int) error
	// FinishAgentTask closes an open task with status (done, failed or
	// expired), its error and its result JSON; ErrConflict when it was
	// closed already.
	FinishAgentTask(ctx context.Context, id string, status AgentTaskStatus, errMsg, result string) (AgentTask, error)
	// ExpiredAgentTasks returns the open tasks whose deadline is before
	// now, for the server to close.
	ExpiredAgentTasks(ctx context.Context, now time.Time) ([]AgentTask, error)
	// PruneAgentTasks deletes tasks closed (done, failed, expired) before
	// before, except those whose scan run is still running, and returns
	// how many.
	PruneAgentTasks(ctx context.Context, before time.Time) (int, error)
}

// EnrollmentKey is a key admins give to agents to enroll with.
type EnrollmentKey struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Prefix    string    `json:"prefix"` // the key's first characters, to tell keys apart
	Subnets   []string  `json:"subnets"`
	CreatedBy string    `json:"created_by"`
	Created   time.Time `json:"created"`
	Expires   time.Time `json:"expires,omitzero"`
	Revoked   time.Time `json:"revoked,omitzero"`
	Uses      int       `json:"uses"`
	LastUsed  time.Time `json:"last_used,omitzero"`
	Agents    int       `json:"agents"` // agents enrolled with it
}

// Usable reports whether the key may enroll an agent at now.
func (k EnrollmentKey) Usable(now time.Time) bool {
	return k.Revoked.IsZero() && (k.Expires.IsZero() || now.Before(k.Expires))
}

// Admits reports whether an agent with these addresses (with or without
// prefix) may enroll with the key.
func (k EnrollmentKey) Admits(addrs []string) bool {
	if len(k.Subnets) == 0 {
		return true
	}
	for _, a := range addrs {
		ip, err := netip.ParseAddr(strings.TrimSpace(a))
		if err != nil {
			p, err := netip.ParsePrefix(strings.TrimSpace(a))
			if err != nil {
				continue
			}
			ip = p.Addr()
		}
		for _, s := range k.Subnets {
			if p, err := netip.ParsePrefix(s); err == nil && p.Contains(ip.Unmap()) {
				return true
			}
		}
	}
	return false
}

// normalize checks a key's fields and puts its subnets in canonical form.
func (k *EnrollmentKey) normalize() error {
	k.Name = strings.TrimSpace(k.Name)
	if len(k.Name) > 128 {
		return fmt.Errorf("%w: enrollment key: name longer than 128 characters", ErrInvalid)
	}
	var subnets []string
	for _, s := range k.Subnets {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%w: enrollment key: subnet %q is not a CIDR", ErrInvalid, s)
		}
		subnets = append(subnets, p.Masked().String())
	}
	if len(subnets) > 256 {
		return fmt.Errorf("%w: enrollment key: %d subnets, at most 256", ErrInvalid, len(subnets))
	}
	if subnets == nil {
		subnets = []string{}
	}
	k.Subnets = subnets
	return nil
}

// Enrollment is an agent asking to enroll.
type Enrollment struct {
	Key       string
	UID       string
	Hostname  string
	Version   string
	Addresses []string
}

// AgentAuth is an authenticated agent with what the agent API needs.
type AgentAuth struct {
	AgentID int64
	UID     string
	KeyID   int64 // 0 when its key was deleted
	// Subnets are the agent's scope, empty for none: its enrollment
	// key's subnets as they were when it enrolled (deleting the key
	// does not lift them). Addresses it reports outside are not kept.
	Subnets       []string
	InventoryHash string
	Capabilities  []string
	PollInterval  time.Duration
}

// AgentTaskStatus is where an agent task stands.
type AgentTaskStatus string

// The task statuses: pending until an agent polls it, delivered until its
// final result, then done, failed or expired (no result by its deadline).
const (
	TaskPending   AgentTaskStatus = "pending"
	TaskDelivered AgentTaskStatus = "delivered"
	TaskDone      AgentTaskStatus = "done"
	TaskFailed    AgentTaskStatus = "failed"
	TaskExpired   AgentTaskStatus = "expired"
)

// Open reports whether the task may still get results.
func (s AgentTaskStatus) Open() bool { return s == TaskPending || s == TaskDelivered }

// AgentTask is a task queued for an agent.
type AgentTask struct {
	ID       string `json:"id"`
	AgentID  int64  `json:"agent_id"`
	Kind     string `json:"kind"`
	SubnetID int64  `json:"subnet_id,omitempty"`
	ScanID   int64  `json:"scan_id,omitempty"`
	// Payload is the task as JSON, with credential names, never secrets:
	// those are revealed only when the task is delivered.
	Payload   string          `json:"payload"`
	Status    AgentTaskStatus `json:"status"`
	NextBatch int             `json:"next_batch"`
	Created   time.Time       `json:"created"`
	Delivered time.Time       `json:"delivered,omitzero"`
	Finished  time.Time       `json:"finished,omitzero"`
	Deadline  time.Time       `json:"deadline"`
	Error     string          `json:"error,omitempty"`
	Result    string          `json:"result,omitempty"` // the final result as JSON
}

// AgentTaskQuery selects tasks, newest first.
type AgentTaskQuery struct {
	AgentID  int64 // 0: any
	SubnetID int64 // 0: any
	Kind     string
	OpenOnly bool
	Limit    int // default 50, at most 1000
}
