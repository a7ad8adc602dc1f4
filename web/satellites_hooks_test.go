package web

import (
	"context"
	"net"
	"net/netip"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/satellite"
)

// Hooks for satellites_test.go (package web_test) into what the wake
// routes and the scan dispatcher call.

func (s *Server) SatelliteForTest(ctx context.Context, p netip.Prefix) (inventory.Satellite, bool, error) {
	return s.satelliteFor(ctx, p)
}

func (s *Server) WakeViaSatelliteForTest(ctx context.Context, sat inventory.Satellite, bcast netip.Addr, macs []net.HardwareAddr) ([]satellite.Result, error) {
	return s.wakeViaSatellite(ctx, sat, bcast, macs)
}

func (s *Server) DispatchScanForTest(ctx context.Context, sn inventory.Subnet) (inventory.Scanner, inventory.ScanRun, error) {
	d, err := s.dispatchScan(ctx, sn)
	return d.Scanner, d.Run, err
}
