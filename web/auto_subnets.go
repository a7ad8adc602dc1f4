package web

import (
	"context"
	"fmt"
	"net/netip"
	"slices"

	"github.com/lanscout/lanscout/inventory"
)

// autoSubnetTag marks the subnets the election created for the networks
// agents sit on (ElectionOptions.NoAutoSubnets).
const autoSubnetTag = "auto"

// dismissIfAuto remembers that an admin (by) is deleting sn when the
// election created it, so that the next round does not create it again
// for the agents still sitting on it. Called before the delete: a delete
// whose dismissal could not be stored would come back.
func (s *Server) dismissIfAuto(ctx context.Context, sn inventory.Subnet, by string) error {
	if !slices.Contains(sn.Tags, autoSubnetTag) {
		return nil
	}
	p, err := netip.ParsePrefix(sn.CIDR)
	if err != nil {
		return nil // not a network the election could have created
	}
	return s.store.DismissAutoSubnet(ctx, p.Masked(), by)
}

// subnetDeleted runs a round at once after a subnet is deleted: its seats
// go, and the pages and API stop naming its scanners.
func (s *Server) subnetDeleted(ctx context.Context, sn inventory.Subnet) {
	if err := s.electDetached(ctx, fmt.Sprintf("subnet %s deleted", sn.CIDR)); err != nil {
		s.log.Warn("election after a subnet delete", "subnet", sn.CIDR, "err", err)
	}
}
