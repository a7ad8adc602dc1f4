// Package labtest builds lab.Labs for tests: it skips, with the reason,
// where a lab cannot be built (not root, iproute2 or nftables missing) and
// tears the lab down when the test ends, whatever way it ends.
package labtest

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/lanscout/lanscout/internal/lab"
)

// Skip skips the test unless this process can build labs.
func Skip(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: the network lab needs root (network namespaces, veth, nftables)")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			if _, serr := os.Stat("/usr/sbin/" + tool); serr != nil {
				t.Skipf("skipping: the network lab needs %s: %v", tool, err)
			}
		}
	}
	if _, err := os.Stat("/proc/self/ns/net"); err != nil {
		t.Skipf("skipping: no network namespaces on this kernel: %v", err)
	}
}

// New builds a lab for t, or skips t when labs cannot be built here. The
// lab is closed by t.Cleanup; a failure to tear it down fails the test.
func New(t testing.TB, cfg lab.Config) *lab.Lab {
	t.Helper()
	Skip(t)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	l, err := lab.New(ctx, cfg)
	if err != nil {
		t.Fatalf("build network lab: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("tear down network lab %s: %v", l.ID, err)
		}
	})
	return l
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
