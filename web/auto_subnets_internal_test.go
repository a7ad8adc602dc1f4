package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/lanscout/lanscout/inventory"
)

// TestDeletedAutoSubnetStaysDeleted: an auto subnet an admin deletes is
// not created again for the agents still sitting on it; the delete runs
// a round at once; a subnet an admin made is not dismissed by its delete.
func TestDeletedAutoSubnetStaysDeleted(t *testing.T) {
	ctx := context.Background()
	srv, store := electionServer(t, ElectionOptions{Coalesce: 1})
	electionAgent(t, store, "lan", "wired", "192.168.60.7/24", 5, true)
	electionAgent(t, store, "lab", "wired", "192.168.61.7/24", 5, true)
	if err := srv.electNow(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	subnets, _ := store.Subnets(ctx)
	if len(subnets) != 2 {
		t.Fatalf("subnets %+v, want two auto subnets", subnets)
	}
	del := func(sn inventory.Subnet) {
		t.Helper()
		w := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(w)
		c.Request = httptest.NewRequest(http.MethodDelete, fmt.Sprintf("/api/v1/subnets/%d", sn.ID), nil)
		c.Params = gin.Params{{Key: "id", Value: fmt.Sprint(sn.ID)}}
		c.Set(principalKey, principal{Username: "alice", Role: inventory.RoleAdmin})
		srv.apiDeleteSubnet(c)
		if c.Writer.Status() != http.StatusNoContent {
			t.Fatalf("delete %s: %d %s", sn.CIDR, c.Writer.Status(), w.Body)
		}
	}
	var lan inventory.Subnet
	for _, sn := range subnets {
		if sn.CIDR == "192.168.60.0/24" {
			lan = sn
		}
	}
	rounds := srv.election.statsNow().Rounds
	del(lan)
	if st := srv.election.statsNow(); st.Rounds != rounds+1 {
		t.Errorf("rounds %d after the delete, want %d: the delete runs one", st.Rounds, rounds+1)
	}
	if err := srv.electNow(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	subnets, _ = store.Subnets(ctx)
	if len(subnets) != 1 || subnets[0].CIDR != "192.168.61.0/24" {
		t.Errorf("subnets after deleting the auto one: %+v; want only 192.168.61.0/24", subnets)
	}
	if d, _ := store.DismissedAutoSubnets(ctx); len(d) != 1 || d[0] != netip.MustParsePrefix("192.168.60.0/24") {
		t.Errorf("dismissed %v", d)
	}
	// A subnet an admin made (no auto tag) is not dismissed: the
	// election may create it as auto afterwards.
	own, err := store.CreateSubnet(ctx, inventory.Subnet{CIDR: "192.168.62.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	del(own)
	if d, _ := store.DismissedAutoSubnets(ctx); len(d) != 1 {
		t.Errorf("deleting an admin's subnet dismissed %v", d)
	}
}
