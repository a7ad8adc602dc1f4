package web

import (
	"context"
	"time"

	"github.com/gin-gonic/gin"
)

// ElectionOptions configure this feature (scaffold: filled in by its owner).
type ElectionOptions struct{}

type electionService struct{}

func (s *Server) initElection() error { return nil }

func (s *Server) electionRoutes(ui, api *gin.RouterGroup) {}

// ScannerView is one scanner of a subnet as the API and UI show it. The
// JSON names are a stable contract (issue: agents and the election).
type ScannerView struct {
	Kind      string    `json:"kind"` // "agent", "server" or "satellite"
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	ElectedAt time.Time `json:"elected_at"`
	Score     float64   `json:"score"`
	Reason    string    `json:"reason"`
}

// SubnetElection is who scans a subnet, who would be next, and why no one
// does when no one does.
type SubnetElection struct {
	Scanners        []ScannerView `json:"scanners"`
	RunnerUp        *ScannerView  `json:"runner_up,omitempty"`
	NoScannerReason string        `json:"no_scanner_reason,omitempty"`
}

// subnetElection returns the current outcome of the election for a subnet.
func (s *Server) subnetElection(ctx context.Context, subnetID int64) (SubnetElection, error) {
	return SubnetElection{Scanners: []ScannerView{}}, nil
}

// electedAgents returns the ids of the agents elected to scan a subnet.
func (s *Server) electedAgents(ctx context.Context, subnetID int64) ([]int64, error) {
	return nil, nil
}

// electedSubnets returns the subnets an agent is elected for.
func (s *Server) electedSubnets(ctx context.Context, agentID int64) ([]int64, error) {
	return nil, nil
}

// reelect recomputes the election now (on an agent's contact, on a
// timer, after an admin change); why goes to the log.
func (s *Server) reelect(ctx context.Context, why string) error { return nil }

// reportScanOutcome tells the election how an elected scanner's scan of a
// subnet went: failure is empty on success, else what went wrong (a scan
// that failed or produced nothing), so the election can act on it rather
// than re-elect the same agent in a loop.
func (s *Server) reportScanOutcome(ctx context.Context, agentID, subnetID int64, failure string) error {
	return nil
}
