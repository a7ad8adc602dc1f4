package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"syscall"
)

// record is what a lab leaves on disk while it lives, so that a lab whose
// process was killed (a test binary hitting its -timeout, a SIGKILL) can be
// removed by the next one instead of leaking namespaces and processes.
type record struct {
	Owner      owner          `json:"owner"`
	Prefixes   []netip.Prefix `json:"prefixes"`
	Namespaces []string       `json:"namespaces"`
	Processes  []owner        `json:"processes"`
}

// usedOctets returns the second octets of the 10.X blocks live labs use.
// The caller holds the state lock.
func usedOctets() map[byte]bool {
	used := map[byte]bool{}
	entries, err := os.ReadDir(recordsDir())
	if err != nil {
		return used
	}
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".json" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(recordsDir(), e.Name()))
		if err != nil {
			continue
		}
		var r record
		if json.Unmarshal(b, &r) != nil || !r.Owner.alive() {
			continue
		}
		for _, p := range r.Prefixes {
			used[p.Addr().As4()[1]] = true
		}
	}
	return used
}

func recordsDir() string { return filepath.Join(stateDir, "labs") }

func recordPath(id string) string { return filepath.Join(recordsDir(), id+".json") }

func writeRecord(id string, r record) error {
	if err := os.MkdirAll(recordsDir(), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", recordsDir(), err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	tmp := recordPath(id) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write lab record: %w", err)
	}
	return os.Rename(tmp, recordPath(id))
}

func removeRecord(id string) error {
	if err := os.Remove(recordPath(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove lab record: %w", err)
	}
	return nil
}

// reapOrphans removes the labs whose owning process is gone. Errors are
// logged, not returned: a stale lab must not stop a new one.
func reapOrphans(ctx context.Context, t tools, logger *slog.Logger) {
	entries, err := os.ReadDir(recordsDir())
	if err != nil {
		return
	}
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".json" {
			continue
		}
		path := filepath.Join(recordsDir(), e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		var r record
		if err := json.Unmarshal(b, &r); err != nil || r.Owner.alive() {
			continue
		}
		logger.Warn("removing a lab left behind by a dead process", "record", path, "pid", r.Owner.PID)
		for _, p := range r.Processes {
			if p.alive() {
				_ = syscall.Kill(p.PID, syscall.SIGKILL)
			}
		}
		for _, ns := range r.Namespaces {
			if _, err := os.Stat(filepath.Join(netnsDir, ns)); err != nil {
				continue
			}
			if _, err := run(ctx, "", t.ip, "netns", "del", ns); err != nil {
				logger.Warn("delete orphaned namespace", "namespace", ns, "err", err)
			}
		}
		_ = os.Remove(path)
	}
}
