package web

import (
	"context"

	"github.com/lanscout/lanscout/inventory"
)

// scanViaSatellite runs a scan of sn on a satellite serving it that has
// lanscout installed, when there is one, and reports whether it did.
// (Scaffold: the satellites owner fills it.)
func (s *Server) scanViaSatellite(ctx context.Context, sn inventory.Subnet) (dispatched, bool, error) {
	return dispatched{}, false, nil
}
