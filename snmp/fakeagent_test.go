package snmp_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/lanscout/lanscout/snmp"
)

// fakeAgent is a v1/v2c agent in the test process that misbehaves on
// purpose, to drive the Session's recovery paths that real agents reach
// only rarely: tooBig, silence above some max-repetitions, OIDs that go
// backwards, error statuses mid-walk.
type fakeAgent struct {
	conn *net.UDPConn
	vars []gosnmp.SnmpPDU // sorted

	mu sync.Mutex
	// tooBigAbove answers tooBig to GETBULKs asking for more repetitions.
	tooBigAbove int
	// silentAbove ignores GETBULKs asking for more repetitions.
	silentAbove int
	// silent ignores every GETBULK.
	silent bool
	// backwardsAfter: a GETNEXT/GETBULK from this OID or later gets the
	// MIB from its first variable again.
	backwardsAfter string
	// genErrAfter: a GETNEXT/GETBULK from this OID or later gets genErr.
	genErrAfter string
	// bulkReps records the max-repetitions of every GETBULK.
	bulkReps []int
}

func newFakeAgent(t *testing.T, n int) *fakeAgent {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	a := &fakeAgent{conn: c}
	a.vars = append(a.vars,
		gosnmp.SnmpPDU{Name: ".1.3.6.1.2.1.1.1.0", Type: gosnmp.OctetString, Value: []byte("fake agent")},
		gosnmp.SnmpPDU{Name: ".1.3.6.1.2.1.1.2.0", Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.4.1.99999"},
	)
	for i := 1; i <= n; i++ {
		a.vars = append(a.vars, gosnmp.SnmpPDU{Name: ".1.3.6.1.2.1.2.2.1.1." + strconv.Itoa(i), Type: gosnmp.Integer, Value: i})
	}
	sort.Slice(a.vars, func(i, j int) bool {
		return snmp.CompareOID(a.vars[i].Name[1:], a.vars[j].Name[1:]) < 0
	})
	done := make(chan struct{})
	go a.serve(done)
	t.Cleanup(func() { c.Close(); <-done })
	return a
}

func (a *fakeAgent) addr() netip.AddrPort { return a.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (a *fakeAgent) serve(done chan struct{}) {
	defer close(done)
	dec := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Community: "public", Port: 161, Target: "127.0.0.1"}
	buf := make([]byte, 65536)
	for {
		n, from, err := a.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		req, err := dec.SnmpDecodePacket(append([]byte(nil), buf[:n]...))
		if err != nil {
			continue
		}
		resp := a.answer(req)
		if resp == nil {
			continue
		}
		out, err := resp.MarshalMsg()
		if err != nil {
			panic(err)
		}
		a.conn.WriteToUDPAddrPort(out, from)
	}
}

func (a *fakeAgent) answer(req *gosnmp.SnmpPacket) *gosnmp.SnmpPacket {
	a.mu.Lock()
	defer a.mu.Unlock()
	resp := &gosnmp.SnmpPacket{Version: req.Version, Community: req.Community, PDUType: gosnmp.GetResponse, RequestID: req.RequestID}
	after := func(oid string) (int, bool) {
		oid = strings.TrimPrefix(oid, ".")
		if a.genErrAfter != "" && snmp.CompareOID(oid, a.genErrAfter) >= 0 {
			resp.Error, resp.ErrorIndex = gosnmp.GenErr, 1
			return 0, false
		}
		if a.backwardsAfter != "" && snmp.CompareOID(oid, a.backwardsAfter) >= 0 {
			return 0, true
		}
		i := sort.Search(len(a.vars), func(k int) bool { return snmp.CompareOID(a.vars[k].Name[1:], oid) > 0 })
		return i, true
	}
	switch req.PDUType {
	case gosnmp.GetRequest:
		for i, v := range req.Variables {
			found := false
			for _, w := range a.vars {
				if w.Name == v.Name {
					resp.Variables = append(resp.Variables, w)
					found = true
				}
			}
			if !found {
				if req.Version == gosnmp.Version1 {
					resp.Error, resp.ErrorIndex = gosnmp.NoSuchName, uint8(i+1)
					resp.Variables = req.Variables
					return resp
				}
				resp.Variables = append(resp.Variables, gosnmp.SnmpPDU{Name: v.Name, Type: gosnmp.NoSuchObject})
			}
		}
	case gosnmp.GetNextRequest:
		i, ok := after(req.Variables[0].Name)
		if !ok {
			resp.Variables = req.Variables
			return resp
		}
		if i >= len(a.vars) {
			resp.Error, resp.ErrorIndex = gosnmp.NoSuchName, 1
			resp.Variables = req.Variables
			return resp
		}
		resp.Variables = []gosnmp.SnmpPDU{a.vars[i]}
	case gosnmp.GetBulkRequest:
		reps := int(req.MaxRepetitions)
		a.bulkReps = append(a.bulkReps, reps)
		if a.silent || a.silentAbove > 0 && reps > a.silentAbove {
			return nil
		}
		if a.tooBigAbove > 0 && reps > a.tooBigAbove {
			resp.Error = gosnmp.TooBig
			return resp
		}
		i, ok := after(req.Variables[0].Name)
		if !ok {
			resp.Variables = req.Variables
			return resp
		}
		for r := 0; r < reps; r++ {
			if i+r >= len(a.vars) {
				resp.Variables = append(resp.Variables, gosnmp.SnmpPDU{Name: a.vars[len(a.vars)-1].Name, Type: gosnmp.EndOfMibView})
				break
			}
			resp.Variables = append(resp.Variables, a.vars[i+r])
		}
	}
	return resp
}

func (a *fakeAgent) set(f func(a *fakeAgent)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f(a)
}

func walkAll(t *testing.T, s *snmp.Session, root string) ([]snmp.Var, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got []snmp.Var
	err := s.Walk(ctx, root, 0, func(v snmp.Var) error { got = append(got, v); return nil })
	return got, err
}

var v2c = snmp.Credential{Version: snmp.V2c, Community: "public"}

func TestWalkBacksOffOnTooBig(t *testing.T) {
	a := newFakeAgent(t, 100)
	a.set(func(a *fakeAgent) { a.tooBigAbove = 2 })
	s := dial(t, a.addr(), v2c)
	got, err := walkAll(t, s, "1.3.6.1.2.1.2")
	if err != nil || len(got) != 100 {
		t.Fatalf("walk: %d rows, %v", len(got), err)
	}
	if s.MaxRepetitions() != 2 {
		t.Errorf("max-repetitions settled at %d, want 2", s.MaxRepetitions())
	}
	a.set(func(a *fakeAgent) {
		// 10 → 5 → 2, then 2 from there on, remembered for the session.
		want := []int{10, 5, 2}
		for i, r := range want {
			if a.bulkReps[i] != r {
				t.Errorf("GETBULK #%d asked %d repetitions, want %d (all: %v)", i+1, a.bulkReps[i], r, a.bulkReps)
			}
		}
		for _, r := range a.bulkReps[3:] {
			if r != 2 {
				t.Errorf("later GETBULK asked %d", r)
			}
		}
		a.bulkReps = nil
	})
	if _, err := walkAll(t, s, "1.3.6.1.2.1.1"); err != nil {
		t.Fatal(err)
	}
	a.set(func(a *fakeAgent) {
		if a.bulkReps[0] != 2 {
			t.Errorf("next walk started at %d repetitions, want the remembered 2", a.bulkReps[0])
		}
	})
}

func TestWalkBacksOffOnTimeout(t *testing.T) {
	a := newFakeAgent(t, 30)
	a.set(func(a *fakeAgent) { a.silentAbove = 5 })
	s, err := snmp.Dial(context.Background(), a.addr(), v2c, snmp.SessionOptions{Timeout: 100 * time.Millisecond, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := walkAll(t, s, "1.3.6.1.2.1.2")
	if err != nil || len(got) != 30 {
		t.Fatalf("walk: %d rows, %v", len(got), err)
	}
	if s.MaxRepetitions() != 5 {
		t.Errorf("max-repetitions %d, want 5", s.MaxRepetitions())
	}
	// An agent silent at every size is unreachable after bounded tries:
	// 5, then 2 and 1 repetitions.
	a.set(func(a *fakeAgent) { a.silent, a.bulkReps = true, nil })
	_, err = walkAll(t, s, "1.3.6.1.2.1.2")
	if !errors.Is(err, snmp.ErrUnreachable) {
		t.Errorf("err = %v, want ErrUnreachable", err)
	}
	a.set(func(a *fakeAgent) {
		if len(a.bulkReps) != 3 {
			t.Errorf("GETBULKs sent to a silent agent: %v, want 3", a.bulkReps)
		}
	})
}

func TestWalkNonIncreasing(t *testing.T) {
	a := newFakeAgent(t, 20)
	a.set(func(a *fakeAgent) { a.backwardsAfter = "1.3.6.1.2.1.2.2.1.1.12" })
	for _, c := range []snmp.Credential{v2c, {Version: snmp.V1, Community: "public"}} {
		s := dial(t, a.addr(), c)
		got, err := walkAll(t, s, "1.3.6.1")
		// The walk must end, not loop, with every row before the fault once.
		if err == nil || !strings.Contains(err.Error(), "not increasing") {
			t.Errorf("v%s: err = %v, want OIDs not increasing", c.Version, err)
		}
		seen := map[string]bool{}
		for _, v := range got {
			if seen[v.Name] {
				t.Errorf("v%s: %s reported twice", c.Version, v.Name)
			}
			seen[v.Name] = true
		}
		if !seen["1.3.6.1.2.1.2.2.1.1.12"] {
			t.Errorf("v%s: rows before the fault lost (%d rows)", c.Version, len(got))
		}
	}
}

func TestWalkErrorStatus(t *testing.T) {
	a := newFakeAgent(t, 20)
	a.set(func(a *fakeAgent) { a.genErrAfter = "1.3.6.1.2.1.2.2.1.1.5" })
	s := dial(t, a.addr(), v2c)
	a.set(func(a *fakeAgent) { a.tooBigAbove = 3 }) // so a request ends exactly at .005
	got, err := walkAll(t, s, "1.3.6.1.2.1.2")
	// gosnmp's own walk would end silently here; ours says why.
	if err == nil || !strings.Contains(err.Error(), "GenErr") || errors.Is(err, snmp.ErrUnreachable) {
		t.Errorf("err = %v, want a genErr that is not ErrUnreachable", err)
	}
	if len(got) < 5 {
		t.Errorf("%d rows before the error", len(got))
	}
}

func TestGetV1NoSuchName(t *testing.T) {
	a := newFakeAgent(t, 3)
	s := dial(t, a.addr(), snmp.Credential{Version: snmp.V1, Community: "public"})
	ctx := context.Background()
	vars, err := s.Get(ctx, []string{"1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.99.0", "1.3.6.1.2.1.1.2.0", "1.3.6.1.2.1.1.98.0", ".1.3.6.1.2.1.2.2.1.1.2"})
	if err != nil {
		t.Fatal(err)
	}
	want := []bool{true, false, true, false, true}
	for i, v := range vars {
		if v.Exists() != want[i] {
			t.Errorf("var %d (%s): exists %v, want %v", i, v.Name, v.Exists(), want[i])
		}
	}
	if vars[0].Text() != "fake agent" || vars[2].OID != "1.3.6.1.4.1.99999" || vars[4].Int != 2 {
		t.Errorf("values: %+v", vars)
	}
}

func TestSessionCancel(t *testing.T) {
	// A socket that never answers.
	silent, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	s, err := snmp.Dial(context.Background(), silent.LocalAddr().(*net.UDPAddr).AddrPort(), v2c, snmp.SessionOptions{Timeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	done := make(chan error, 1)
	go func() { _, err := s.Get(ctx, []string{"1.3.6.1.2.1.1.1.0"}); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("cancelling the context did not end a request with a one-hour timeout")
	}
}

// TestDebugLogHidesSecrets: gosnmp's packet log, bridged to slog at debug
// level, prints whole packets; the community must not survive.
func TestDebugLogHidesSecrets(t *testing.T) {
	a := newFakeAgent(t, 3)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := snmp.Dial(context.Background(), a.addr(), snmp.Credential{Version: snmp.V2c, Community: "hunter2-comm"}, snmp.SessionOptions{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Get(context.Background(), []string{"1.3.6.1.2.1.1.1.0"}); err != nil {
		t.Fatal(err)
	}
	if logs.Len() == 0 || !strings.Contains(logs.String(), "<secret>") {
		t.Errorf("no masked packet log:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "hunter2") {
		t.Errorf("community in the log:\n%s", logs.String())
	}
}

// TestSessionCloseAborts: Close from another goroutine ends a request in
// flight promptly with ErrUnreachable.
func TestSessionCloseAborts(t *testing.T) {
	silent, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	s, err := snmp.Dial(context.Background(), silent.LocalAddr().(*net.UDPAddr).AddrPort(), v2c, snmp.SessionOptions{Timeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(100*time.Millisecond, func() { s.Close() })
	done := make(chan error, 1)
	go func() {
		done <- s.Walk(context.Background(), "1.3.6.1", 0, func(snmp.Var) error { return nil })
	}()
	select {
	case err := <-done:
		if !errors.Is(err, snmp.ErrUnreachable) || strings.Contains(err.Error(), "goroutine") {
			t.Errorf("err = %v, want a short ErrUnreachable", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Close did not abort the request")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
