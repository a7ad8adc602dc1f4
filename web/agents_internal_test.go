package web

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lanscout/lanscout/agent"
	"github.com/lanscout/lanscout/agent/protocol"
	"github.com/lanscout/lanscout/inventory"
)

// TestTaskRetries: AgentOptions.ScanRetries in discover.Options' sense
// (0 the default, negative none) becomes the scan task's (-1 the default,
// 0 none), which the agent turns back into discover.Options'.
func TestTaskRetries(t *testing.T) {
	for in, want := range map[int]int{0: -1, -1: 0, 1: 1, 3: 3} {
		if got := taskRetries(in); got != want {
			t.Errorf("taskRetries(%d) = %d, want %d", in, got, want)
		}
	}
}

// agentServer starts a server over TLS with one enrolled agent and
// returns a client speaking as that agent.
func agentServer(t *testing.T, now func() time.Time) (*Server, *inventory.SQLite, *agent.Client, int64) {
	t.Helper()
	ctx := context.Background()
	store, err := inventory.OpenSQLite(ctx, t.TempDir(), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	srv, err := New(Options{Store: store, Logger: slog.New(slog.DiscardHandler), ScheduleCheck: -1, Now: now,
		Agents: AgentOptions{MaxWait: 20 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewTLSServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		srv.Close(context.Background())
	})
	key, _, err := store.CreateEnrollmentKey(ctx, inventory.EnrollmentKey{})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := agent.NewClient(ts.URL, agent.TLSOptions{Fingerprint: fingerprintOf(ts)}, "test")
	if err != nil {
		t.Fatal(err)
	}
	r, err := cl.Enroll(ctx, protocol.EnrollRequest{Key: key, UID: "waker"})
	if err != nil {
		t.Fatal(err)
	}
	cl.SetToken(r.Token)
	return srv, store, cl, r.AgentID
}

func fingerprintOf(ts *httptest.Server) string {
	return agentFingerprint(ts.Certificate().Raw)
}

// TestWakeTaskRoundTrip is the contract the Wake-on-LAN side builds on: a
// task queued while the agent waits in a long poll reaches it at once,
// its result comes back through awaitAgentTask, and a second upload of it
// changes nothing.
func TestWakeTaskRoundTrip(t *testing.T) {
	srv, _, cl, agentID := agentServer(t, nil)
	ctx := context.Background()

	type polled struct {
		tasks []protocol.Task
		took  time.Duration
		err   error
	}
	got := make(chan polled, 1)
	go func() {
		start := time.Now()
		ts, err := cl.Tasks(ctx, 20*time.Second)
		got <- polled{ts, time.Since(start), err}
	}()
	time.Sleep(300 * time.Millisecond) // let the poll start waiting
	id, err := srv.enqueueAgentTask(ctx, agentID, protocol.Task{Kind: protocol.TaskWake,
		Wake: &protocol.WakeTask{MACs: []string{"02:00:00:00:00:01"}, Subnet: "10.1.2.0/24"}})
	if err != nil {
		t.Fatal(err)
	}
	p := <-got
	if p.err != nil || len(p.tasks) != 1 || p.tasks[0].ID != id || p.tasks[0].Wake == nil || p.tasks[0].Deadline.IsZero() {
		t.Fatalf("long poll: %+v", p)
	}
	// Generous: the point is that it did not sit out the 20s wait.
	if p.took > 10*time.Second {
		t.Errorf("the queued task reached the waiting agent after %v", p.took)
	}

	waited := make(chan protocol.TaskResult, 1)
	go func() {
		r, err := srv.awaitAgentTask(ctx, id)
		if err != nil {
			t.Error(err)
		}
		waited <- r
	}()
	res := protocol.TaskResult{TaskID: id, Final: true, Finished: time.Now().UTC(),
		Wake: &protocol.WakeResult{Sent: []protocol.WakeSent{{MAC: "02:00:00:00:00:01", Method: "udp"}}}}
	if reply, err := cl.Upload(ctx, res); err != nil || reply.Duplicate {
		t.Fatalf("upload: %+v, %v", reply, err)
	}
	r := <-waited
	if r.TaskID != id || r.Wake == nil || len(r.Wake.Sent) != 1 || r.Wake.Sent[0].Method != "udp" || r.Error != "" {
		t.Errorf("awaited result: %+v", r)
	}
	if reply, err := cl.Upload(ctx, res); err != nil || !reply.Duplicate {
		t.Errorf("second upload: %+v, %v; want a duplicate", reply, err)
	}
	// Already finished: awaiting again answers at once.
	if r2, err := srv.awaitAgentTask(ctx, id); err != nil || r2.Wake == nil {
		t.Errorf("await a finished task: %+v, %v", r2, err)
	}
	// Tasks cannot be queued for revoked agents, nor scans this way.
	if _, err := srv.enqueueAgentTask(ctx, agentID, protocol.Task{Kind: protocol.TaskScan, Scan: &protocol.ScanTask{}}); !errors.Is(err, inventory.ErrInvalid) {
		t.Errorf("scan through enqueueAgentTask: %v", err)
	}
	if _, err := srv.revokeAgent(ctx, agentID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.enqueueAgentTask(ctx, agentID, protocol.Task{Kind: protocol.TaskWake, Wake: &protocol.WakeTask{}}); !errors.Is(err, inventory.ErrRevoked) {
		t.Errorf("wake for a revoked agent: %v", err)
	}
}

// TestAgentTaskExpires: a task nobody answers ends at its deadline with
// an error saying so, and awaitAgentTask returns it.
func TestAgentTaskExpires(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	srv, store, _, agentID := agentServer(t, now)
	ctx := context.Background()
	id, err := srv.enqueueAgentTask(ctx, agentID, protocol.Task{Kind: protocol.TaskWake, Deadline: now().Add(time.Minute),
		Wake: &protocol.WakeTask{MACs: []string{"02:00:00:00:00:01"}, Subnet: "10.1.2.0/24"}})
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(int64(2 * time.Minute))
	srv.expireAgentTasks(ctx)
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	r, err := srv.awaitAgentTask(wctx, id)
	if err != nil || r.Error == "" || r.Wake != nil {
		t.Fatalf("expired task's result: %+v, %v", r, err)
	}
	at, _ := store.AgentTask(ctx, id)
	if at.Status != inventory.TaskExpired {
		t.Errorf("status %s, want expired", at.Status)
	}
}

func agentFingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// TestLostTaskFails: a task delivered to an agent that then says (in its
// hello) it is not running it fails once the grace has passed, rather
// than block until its deadline; a task it runs is left alone.
func TestLostTaskFails(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	srv, store, cl, agentID := agentServer(t, now)
	ctx := context.Background()
	wake := protocol.Task{Kind: protocol.TaskWake, Wake: &protocol.WakeTask{MACs: []string{"02:00:00:00:00:01"}, Subnet: "10.1.2.0/24"}}
	lost, err := srv.enqueueAgentTask(ctx, agentID, wake)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := srv.enqueueAgentTask(ctx, agentID, wake)
	if err != nil {
		t.Fatal(err)
	}
	if ts, err := cl.Tasks(ctx, 0); err != nil || len(ts) != 2 {
		t.Fatalf("tasks: %v, %v", ts, err)
	}
	// Within the grace nothing happens, whatever the agent says.
	if _, err := cl.Hello(ctx, protocol.Hello{Running: []string{kept}}); err != nil {
		t.Fatal(err)
	}
	if at, _ := store.AgentTask(ctx, lost); at.Status != inventory.TaskDelivered {
		t.Fatalf("within the grace: %s", at.Status)
	}
	clock.Add(int64(lostTaskGrace + time.Second))
	if _, err := cl.Hello(ctx, protocol.Hello{Running: []string{kept}}); err != nil {
		t.Fatal(err)
	}
	if at, _ := store.AgentTask(ctx, lost); at.Status != inventory.TaskFailed || at.Error == "" {
		t.Errorf("lost task: %s %q, want failed with a reason", at.Status, at.Error)
	}
	if at, _ := store.AgentTask(ctx, kept); at.Status != inventory.TaskDelivered {
		t.Errorf("running task: %s, want still delivered", at.Status)
	}
}
