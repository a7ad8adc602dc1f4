package web

import (
	"context"
	"errors"
	"net"
	"net/netip"
)

// wakeSatellites names the satellite serving subnet ("" for none) and
// every configured satellite, for the all_satellites fallback.
func (s *Server) wakeSatellites(ctx context.Context, subnet netip.Prefix) (string, []string, error) {
	return "", nil, nil
}

// sendViaSatellites runs the wake command on the plan's satellites over
// SSH.
func (s *Server) sendViaSatellites(ctx context.Context, p wakePlan, macs []net.HardwareAddr, set func(int, string, error), failAll func(error)) {
	failAll(errors.New("satellites are not available in this build"))
}
