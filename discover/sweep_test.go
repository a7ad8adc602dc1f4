package discover_test

import (
	"context"
	"errors"
	"github.com/lanscout/lanscout/internal/tcptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanscout/lanscout/discover"
)

// TestSweepCancelReturnsPartial cancels a loopback TCP sweep of 512
// addresses from its Found callback: Sweep must return soon, with the
// hosts found so far and the context's error.
func TestSweepCancelReturnsPartial(t *testing.T) {
	port := tcptest.Listen(t)
	ts, err := discover.ParseTargets([]string{"127.0.1.0/23"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var mu sync.Mutex
	found := 0
	res, err := discover.Sweep(ctx, ts, discover.Options{
		Method: discover.MethodTCP, TCPPorts: []uint16{port}, Rate: 200, NoDNS: true,
		Found: func(discover.Host) {
			mu.Lock()
			defer mu.Unlock()
			if found++; found == 5 {
				cancel()
			}
		},
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if res == nil {
		t.Fatal("no partial result")
	}
	if n := len(res.Hosts); n < 5 || n >= 512 {
		t.Errorf("partial result has %d hosts, want at least the 5 found before the cancel and not all", n)
	}
	if res.Stats.Sent >= 512 {
		t.Errorf("sent %d probes, the whole sweep, despite the cancel", res.Stats.Sent)
	}
}

type fakeResolver struct {
	names map[string][]string
}

func (r fakeResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	if names, ok := r.names[addr]; ok {
		return names, nil
	}
	<-ctx.Done() // a resolver that never answers
	return nil, ctx.Err()
}

// TestSweepReverseDNS: names are cleaned and sorted, and a resolver that
// hangs costs the budget, not the sweep.
func TestSweepReverseDNS(t *testing.T) {
	port := tcptest.Listen(t)
	ts, _ := discover.ParseTargets([]string{"127.0.0.1-2"})
	res, err := discover.Sweep(t.Context(), ts, discover.Options{
		Method: discover.MethodTCP, TCPPorts: []uint16{port}, DNSBudget: 100 * time.Millisecond,
		Resolver: fakeResolver{names: map[string][]string{"127.0.0.1": {"Localhost.", "box.lan.", "localhost"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hosts) != 2 {
		t.Fatalf("found %d hosts, want 2", len(res.Hosts))
	}
	if got, want := res.Hosts[0].Hostnames, []string{"box.lan", "localhost"}; !slices.Equal(got, want) {
		t.Errorf("127.0.0.1 names %q, want %q", got, want)
	}
	if res.Hosts[1].Hostnames != nil {
		t.Errorf("127.0.0.2 names %q from a resolver that never answered", res.Hosts[1].Hostnames)
	}
}

func TestPrivilegeError(t *testing.T) {
	err := error(&discover.PrivilegeError{Op: "arp sweep on eth0", Needs: "CAP_NET_RAW", Err: os.ErrPermission})
	if !errors.Is(err, os.ErrPermission) {
		t.Error("PrivilegeError does not match os.ErrPermission")
	}
	want := `arp sweep on eth0 needs CAP_NET_RAW: run as root, or grant it with "sudo setcap cap_net_raw+ep $(which lanscout)", or under systemd AmbientCapabilities=CAP_NET_RAW`
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("message %q\nwant prefix %q", err, want)
	}
}
