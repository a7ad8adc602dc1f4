package web

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/wol"
)

// wakeSatellites names the trusted satellite serving subnet ("" for none;
// satelliteFor's choice) and every trusted satellite, for the
// all_satellites fallback. A satellite whose host key no admin confirmed
// is never used.
func (s *Server) wakeSatellites(ctx context.Context, subnet netip.Prefix) (string, []string, error) {
	sat, ok, err := s.satelliteFor(ctx, subnet)
	if err != nil {
		return "", nil, fmt.Errorf("satellite for %s: %w", subnet, err)
	}
	serving := ""
	if ok {
		serving = sat.Name
	}
	sats, err := s.store.Satellites(ctx)
	if err != nil {
		return "", nil, fmt.Errorf("list satellites: %w", err)
	}
	var all []string
	for _, st := range sats {
		if st.Trusted() {
			all = append(all, st.Name)
		}
	}
	return serving, all, nil
}

// sendViaSatellites runs the wake command over SSH on the plan's
// satellites: the one serving the subnet, to the subnet's directed
// broadcast; or, for the all_satellites fallback, every one, each to the
// broadcast of the target subnet when it serves it and of its own first
// subnet otherwise (the segment it sits on). A MAC counts as sent when
// any satellite's command for it succeeded; an unreachable satellite does
// not stop the others.
func (s *Server) sendViaSatellites(ctx context.Context, p wakePlan, macs []net.HardwareAddr, set func(int, string, error), failAll func(error)) {
	stored, err := s.store.Satellites(ctx)
	if err != nil {
		failAll(fmt.Errorf("list satellites: %w", err))
		return
	}
	byName := map[string]inventory.Satellite{}
	for _, st := range stored {
		byName[st.Name] = st
	}
	type outcome struct {
		name string
		res  []error // per MAC, nil when sent
		err  error   // the whole satellite failed
	}
	outs := make([]outcome, len(p.satellites))
	var wg sync.WaitGroup
	for i, name := range p.satellites {
		wg.Go(func() {
			outs[i].name = name
			sat, ok := byName[name]
			if !ok || !sat.Trusted() {
				outs[i].err = fmt.Errorf("satellite %s is gone or no longer trusted", name)
				return
			}
			bcast, err := satelliteBroadcast(sat, p.subnet)
			if err != nil {
				outs[i].err = fmt.Errorf("satellite %s: %w", name, err)
				return
			}
			res, err := s.wakeViaSatellite(ctx, sat, bcast, macs)
			if err != nil {
				outs[i].err = fmt.Errorf("satellite %s: %w", name, err)
				return
			}
			outs[i].res = make([]error, len(macs))
			for j := range macs {
				if j < len(res) {
					outs[i].res[j] = res[j].Err
				} else {
					outs[i].res[j] = fmt.Errorf("satellite %s reported no result", name)
				}
			}
		})
	}
	wg.Wait()
	for j := range macs {
		var errs []error
		sent := false
		for _, o := range outs {
			switch {
			case o.err != nil:
				errs = append(errs, o.err)
			case o.res[j] != nil:
				errs = append(errs, fmt.Errorf("satellite %s: %w", o.name, o.res[j]))
			default:
				sent = true
			}
		}
		if sent {
			set(j, "ssh", nil)
			continue
		}
		set(j, "ssh", joinErrs(errs))
	}
}

// satelliteBroadcast is where sat sends packets for a target in subnet:
// the subnet's directed broadcast when sat serves it, else that of the
// first subnet sat serves.
func satelliteBroadcast(sat inventory.Satellite, subnet netip.Prefix) (netip.Addr, error) {
	var own netip.Prefix
	for _, c := range sat.Subnets {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			continue
		}
		if p.Overlaps(subnet) {
			// The narrower of the two is the segment both agree on.
			if subnet.Bits() >= p.Bits() {
				return wol.DirectedBroadcast(subnet)
			}
			return wol.DirectedBroadcast(p)
		}
		if !own.IsValid() {
			own = p
		}
	}
	if !own.IsValid() {
		return netip.Addr{}, fmt.Errorf("serves no subnet")
	}
	return wol.DirectedBroadcast(own)
}

func joinErrs(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	msg := ""
	for i, e := range errs {
		if i > 0 {
			msg += "; "
		}
		msg += e.Error()
	}
	return fmt.Errorf("%s", msg)
}
