package inventory

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestEnrollAgent(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := openTest(t)
	open, _, err := s.CreateEnrollmentKey(ctx, EnrollmentKey{Name: "office"})
	if err != nil {
		t.Fatal(err)
	}
	scoped, _, err := s.CreateEnrollmentKey(ctx, EnrollmentKey{Name: "lab", Subnets: []string{"10.9.0.7/16"}})
	if err != nil {
		t.Fatal(err)
	}
	expiring, _, err := s.CreateEnrollmentKey(ctx, EnrollmentKey{Name: "short", Expires: clk.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	revoked, rk, err := s.CreateEnrollmentKey(ctx, EnrollmentKey{Name: "leaked"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevokeEnrollmentKey(ctx, rk.ID, false); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Hour)

	cases := []struct {
		name string
		e    Enrollment
		want error
	}{
		{"open key", Enrollment{Key: open, UID: "a1", Hostname: "pc1", Addresses: []string{"192.168.1.5/24"}}, nil},
		{"scoped key, inside", Enrollment{Key: scoped, UID: "a2", Addresses: []string{"10.9.3.4/24"}}, nil},
		{"scoped key, outside", Enrollment{Key: scoped, UID: "a3", Addresses: []string{"10.10.3.4/24"}}, ErrOutOfScope},
		{"expired key", Enrollment{Key: expiring, UID: "a4"}, ErrExpired},
		{"revoked key", Enrollment{Key: revoked, UID: "a5"}, ErrRevoked},
		{"unknown key", Enrollment{Key: "lse_nope", UID: "a6"}, ErrBadCredentials},
		{"no uid", Enrollment{Key: open}, ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok, a, err := s.EnrollAgent(ctx, c.e)
			if !errors.Is(err, c.want) {
				t.Fatalf("EnrollAgent: err %v, want %v", err, c.want)
			}
			if c.want != nil {
				if _, err := s.AgentByUID(ctx, c.e.UID); !errors.Is(err, ErrNotFound) && c.e.UID != "" {
					t.Errorf("refused enrollment stored agent %s (%v)", c.e.UID, err)
				}
				return
			}
			auth, err := s.AuthenticateAgent(ctx, tok)
			if err != nil || auth.AgentID != a.ID || auth.UID != c.e.UID {
				t.Fatalf("AuthenticateAgent = %+v, %v; want agent %d", auth, err, a.ID)
			}
		})
	}

	// Enrolling an enrolled UID again is refused, whatever the key: it
	// would hand the agent's identity to whoever holds a key. The old
	// token keeps working; once an admin deletes the agent, it enrolls.
	tok1, a, err := s.EnrollAgent(ctx, Enrollment{Key: open, UID: "again"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.EnrollAgent(ctx, Enrollment{Key: open, UID: "again"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("enrolling an enrolled UID again: %v, want ErrConflict", err)
	}
	if auth, err := s.AuthenticateAgent(ctx, tok1); err != nil || auth.AgentID != a.ID {
		t.Fatalf("token after a refused takeover: %+v, %v", auth, err)
	}
	if err := s.DeleteAgent(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	tok2, a2, err := s.EnrollAgent(ctx, Enrollment{Key: open, UID: "again"})
	if err != nil {
		t.Fatalf("enroll after the admin deleted the agent: %v", err)
	}
	a = a2
	if _, err := s.AuthenticateAgent(ctx, tok1); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("old token after deletion and re-enrollment: %v, want ErrBadCredentials", err)
	}
	// An OCS agent's record cannot be claimed by enrolling its UID.
	if _, err := s.RecordAgentContact(ctx, "ocs-host-2026-01-01-00-00-00", AgentOCS); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.EnrollAgent(ctx, Enrollment{Key: open, UID: "ocs-host-2026-01-01-00-00-00"}); !errors.Is(err, ErrConflict) {
		t.Errorf("enrolling an OCS agent's UID: %v, want ErrConflict", err)
	}
	// A revoked agent is refused and cannot enroll itself back.
	if err := s.SetAgentRevoked(ctx, a.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AuthenticateAgent(ctx, tok2); !errors.Is(err, ErrRevoked) {
		t.Errorf("revoked agent: %v, want ErrRevoked", err)
	}
	if _, _, err := s.EnrollAgent(ctx, Enrollment{Key: open, UID: "again"}); !errors.Is(err, ErrRevoked) {
		t.Errorf("revoked agent re-enrolling: %v, want ErrRevoked", err)
	}
	got, err := s.Agent(ctx, a.ID)
	if err != nil || !got.Revoked {
		t.Errorf("agent after revocation: revoked=%v, %v", got.Revoked, err)
	}

	// Revoking a key with its agents.
	tok3, _, err := s.EnrollAgent(ctx, Enrollment{Key: scoped, UID: "a7", Addresses: []string{"10.9.9.9"}})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := s.EnrollmentKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var scopedKey EnrollmentKey
	for _, k := range keys {
		if k.Name == "lab" {
			scopedKey = k
		}
	}
	if scopedKey.Agents != 2 || scopedKey.Uses != 2 || scopedKey.Subnets[0] != "10.9.0.0/16" {
		t.Errorf("scoped key = %+v, want 2 agents, 2 uses, 10.9.0.0/16", scopedKey)
	}
	n, err := s.RevokeEnrollmentKey(ctx, scopedKey.ID, true)
	if err != nil || n != 2 {
		t.Fatalf("revoke key with agents: %d, %v; want 2", n, err)
	}
	if _, err := s.AuthenticateAgent(ctx, tok3); !errors.Is(err, ErrRevoked) {
		t.Errorf("agent of a revoked key: %v, want ErrRevoked", err)
	}
}

func TestAgentTasks(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := openTest(t)
	key, _, _ := s.CreateEnrollmentKey(ctx, EnrollmentKey{})
	_, a, err := s.EnrollAgent(ctx, Enrollment{Key: key, UID: "x"})
	if err != nil {
		t.Fatal(err)
	}
	sn := mustSubnet(t, s, "10.1.0.0/24")
	t1, err := s.CreateAgentTask(ctx, AgentTask{AgentID: a.ID, Kind: "scan", SubnetID: sn.ID, Payload: "{}", Deadline: clk.Now().Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Millisecond)
	t2, err := s.CreateAgentTask(ctx, AgentTask{AgentID: a.ID, Kind: "wake", Payload: "{}"})
	if err != nil {
		t.Fatal(err)
	}
	open, err := s.AgentTasks(ctx, AgentTaskQuery{SubnetID: sn.ID, OpenOnly: true})
	if err != nil || len(open) != 1 || open[0].ID != t1.ID {
		t.Fatalf("open tasks of subnet = %v, %v", open, err)
	}
	got, err := s.ClaimAgentTasks(ctx, a.ID, 10)
	if err != nil || len(got) != 2 || got[0].ID != t1.ID || got[1].ID != t2.ID || got[0].Status != TaskDelivered {
		t.Fatalf("claim = %+v, %v", got, err)
	}
	if again, _ := s.ClaimAgentTasks(ctx, a.ID, 10); len(again) != 0 {
		t.Errorf("claimed twice: %v", again)
	}
	if err := s.AdvanceAgentTask(ctx, t1.ID, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.AdvanceAgentTask(ctx, t1.ID, 0); !errors.Is(err, ErrConflict) {
		t.Errorf("advance past a batch twice: %v, want ErrConflict", err)
	}
	if _, err := s.FinishAgentTask(ctx, t2.ID, TaskDone, "", `{"x":1}`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FinishAgentTask(ctx, t2.ID, TaskDone, "", ""); !errors.Is(err, ErrConflict) {
		t.Errorf("finish twice: %v, want ErrConflict", err)
	}
	if _, err := s.FinishAgentTask(ctx, "nope", TaskDone, "", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("finish unknown: %v, want ErrNotFound", err)
	}
	clk.Advance(2 * time.Minute)
	exp, err := s.ExpiredAgentTasks(ctx, clk.Now())
	if err != nil || len(exp) != 1 || exp[0].ID != t1.ID {
		t.Fatalf("expired = %v, %v; want %s", exp, err, t1.ID)
	}
	done, err := s.AgentTask(ctx, t2.ID)
	if err != nil || done.Status != TaskDone || done.Result != `{"x":1}` {
		t.Errorf("finished task = %+v, %v", done, err)
	}
}
