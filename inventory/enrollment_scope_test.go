package inventory

import (
	"context"
	"slices"
	"testing"
)

// TestAgentScopeOutlivesKey: an agent keeps its key's subnets as its own
// scope when the key is deleted.
func TestAgentScopeOutlivesKey(t *testing.T) {
	s, _, _ := openTest(t)
	ctx := context.Background()
	key, k, err := s.CreateEnrollmentKey(ctx, EnrollmentKey{Name: "lab", Subnets: []string{"10.9.0.0/16"}})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := s.EnrollAgent(ctx, Enrollment{Key: key, UID: "lab-pc", Addresses: []string{"10.9.3.4/24"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteEnrollmentKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	auth, err := s.AuthenticateAgent(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if auth.KeyID != 0 || !slices.Equal(auth.Subnets, []string{"10.9.0.0/16"}) {
		t.Errorf("after the key was deleted: key %d, scope %v; want 0, [10.9.0.0/16]", auth.KeyID, auth.Subnets)
	}
}
