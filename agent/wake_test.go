package agent

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/agent/protocol"
	"github.com/lanscout/lanscout/internal/lab"
	"github.com/lanscout/lanscout/internal/lab/labtest"
	"github.com/lanscout/lanscout/internal/woltest"
	"github.com/lanscout/lanscout/wol"
)

func TestWakeTaskErrors(t *testing.T) {
	ifaces := []wol.Interface{{Name: "eth0", Index: 1, HardwareAddr: net.HardwareAddr{2, 0, 0, 0, 0, 1},
		Prefixes: []netip.Prefix{netip.MustParsePrefix("10.1.2.3/24")}}}
	for _, tc := range []struct {
		task protocol.WakeTask
		want string
	}{
		{protocol.WakeTask{Subnet: "nope", MACs: []string{"02:00:00:00:00:01"}}, "subnet"},
		{protocol.WakeTask{Subnet: "10.9.0.0/24", MACs: []string{"02:00:00:00:00:01"}}, "no local interface"},
		{protocol.WakeTask{Subnet: "10.1.2.0/24", Password: "xyz", MACs: []string{"02:00:00:00:00:01"}}, "SecureOn"},
	} {
		_, err := Wake(t.Context(), tc.task, ifaces, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want it to mention %q", tc.task, err, tc.want)
		}
	}
	// Only bad MACs: each fails alone, nothing is sent, no task error.
	r, err := Wake(t.Context(), protocol.WakeTask{Subnet: "10.1.2.0/24", MACs: []string{"ff:ff:ff:ff:ff:ff", "x"}}, ifaces, nil)
	if err != nil || len(r.Sent) != 2 || r.Sent[0].Error == "" || r.Sent[1].Error == "" {
		t.Errorf("bad MACs: %+v, %v", r, err)
	}
	res := WakeTaskResult(t.Context(), protocol.Task{ID: "t1", Kind: protocol.TaskScan}, ifaces, nil, time.Now)
	if res.TaskID != "t1" || res.Error == "" || res.Finished.IsZero() {
		t.Errorf("task of another kind: %+v", res)
	}
}

// TestLabWakeTask runs a wake task as an agent on the lab's scanner
// machine would: a sink on a lab host receives a raw magic packet for
// every good MAC; a bad MAC fails alone.
func TestLabWakeTask(t *testing.T) {
	l := labtest.New(t, lab.Config{Hosts: 1})
	sink := woltest.Listen(t, l, l.HostsNS, l.Hosts[0].Interface, 9, 7)
	task := protocol.Task{ID: "w1", Kind: protocol.TaskWake, Wake: &protocol.WakeTask{
		Subnet: l.Prefix.String(),
		MACs:   []string{"02:00:5e:20:00:01", "02005E200002", "02:00:5e:20:00:01", "01:00:5e:00:00:01"},
	}}
	var res protocol.TaskResult
	send := func() error {
		return l.Do(l.Scanner.Namespace, func() error {
			res = WakeTaskResult(t.Context(), task, nil, nil, time.Now)
			return nil
		})
	}
	ps, err := sink.SendUntil(10*time.Second, send, func(ps []woltest.Packet) bool {
		return woltest.HasAll(ps, "raw", "02:00:5e:20:00:01", "02:00:5e:20:00:02")
	})
	if err != nil {
		t.Fatalf("%v: %+v", err, ps)
	}
	if res.Error != "" || res.Wake == nil || len(res.Wake.Sent) != 3 {
		t.Fatalf("result %+v", res)
	}
	for i, want := range []protocol.WakeSent{
		{MAC: "02:00:5e:20:00:01", Method: "raw"},
		{MAC: "02:00:5e:20:00:02", Method: "raw"},
	} {
		if got := res.Wake.Sent[i]; got != want {
			t.Errorf("sent[%d] = %+v, want %+v", i, got, want)
		}
	}
	if got := res.Wake.Sent[2]; got.MAC != "01:00:5e:00:00:01" || !strings.Contains(got.Error, "multicast") {
		t.Errorf("multicast MAC: %+v", got)
	}
	if woltest.Has(ps, "", "01:00:5e:00:00:01") {
		t.Error("a packet for the refused multicast MAC arrived")
	}
}
