package inventory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// RunningScan returns the newest run of subnetID still running, whoever
// runs it (the server, a satellite or an agent), and whether there is
// one. Passive listening is not a scan and is not returned.
func (s *SQLite) RunningScan(ctx context.Context, subnetID int64) (ScanRun, bool, error) {
	run, err := scanScanRun(s.r.QueryRowContext(ctx, `SELECT `+scanRunCols+` FROM scans
		WHERE subnet_id = ? AND status = ? AND method != ? ORDER BY id DESC LIMIT 1`,
		subnetID, ScanRunning, MethodPassive))
	if errors.Is(err, sql.ErrNoRows) {
		return ScanRun{}, false, nil
	}
	if err != nil {
		return ScanRun{}, false, fmt.Errorf("running scan of subnet %d: %w", subnetID, err)
	}
	return run, true, nil
}

// OnlineRule says when an agent counts as online: its last contact is
// within Factor poll intervals of Now. An agent's poll interval is the
// one it announced, else DefaultPoll; an OCS agent that announced none
// polls every OCSPoll.
type OnlineRule struct {
	Now         time.Time
	Factor      int
	DefaultPoll time.Duration
	OCSPoll     time.Duration
}

// OnlineAgents counts the agents online by rule, revoked ones never, in
// one query (no NICs loaded): metrics scrape it often.
func (s *SQLite) OnlineAgents(ctx context.Context, rule OnlineRule) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM agents WHERE revoked = 0
		AND last_contact >= ? - ? * CASE
			WHEN poll_interval_ms > 0 THEN poll_interval_ms
			WHEN kind = ? THEN ?
			ELSE ? END`,
		msOf(rule.Now), rule.Factor, AgentOCS, rule.OCSPoll.Milliseconds(), rule.DefaultPoll.Milliseconds()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count online agents: %w", err)
	}
	return n, nil
}
