package web

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/satellite"
	"github.com/lanscout/lanscout/scan"
	"github.com/lanscout/lanscout/snmp"
)

// Satellites are SSH hosts inside subnets the server does not sit on. The
// wake routing (wake_*.go) finds the one serving a subnet with
// satelliteFor and sends through it with wakeViaSatellite; the scan
// dispatcher runs scans on those with lanscout installed with
// scanViaSatellite. The handlers for configuring them are in
// satellites_http.go.

// satelliteFor returns the satellite serving cidr that can be used: its
// host key is trusted. Several serving it: the one with the most specific
// subnet, then by name, so the choice is stable.
func (s *Server) satelliteFor(ctx context.Context, cidr netip.Prefix) (inventory.Satellite, bool, error) {
	sats, err := s.store.Satellites(ctx)
	if err != nil {
		return inventory.Satellite{}, false, err
	}
	best, bestBits, found := inventory.Satellite{}, -1, false
	for _, sat := range sats {
		if !sat.Trusted() {
			continue
		}
		for _, c := range sat.Subnets {
			p, err := netip.ParsePrefix(c)
			if err != nil || !p.Overlaps(cidr) {
				continue
			}
			if p.Bits() > bestBits {
				best, bestBits, found = sat, p.Bits(), true
			}
		}
	}
	return best, found, nil
}

// satelliteConfig builds the SSH settings of a stored satellite: its key
// (sealed in the store, or the key file), its trusted host key and wake
// command.
func (s *Server) satelliteConfig(ctx context.Context, sat inventory.Satellite) (satellite.Config, error) {
	return SatelliteConfig(ctx, s.store, sat)
}

// SatelliteConfig builds the SSH settings of sat, a satellite of store, as
// the server uses them: `lanscout satellite` calls it too, so that the
// command line reaches a satellite exactly as the server does.
func SatelliteConfig(ctx context.Context, store inventory.SatelliteStore, sat inventory.Satellite) (satellite.Config, error) {
	cfg := satellite.Config{Name: sat.Name, Address: sat.Address, Port: sat.Port, User: sat.User, WakeCommand: sat.WakeCommand}
	var err error
	if sat.HostKey != "" {
		if cfg.HostKey, err = satellite.ParseHostKey(sat.HostKey); err != nil {
			return cfg, fmt.Errorf("satellite %s: stored %w", sat.Name, err)
		}
	}
	key, err := store.SatellitePrivateKey(ctx, sat.ID)
	if err != nil {
		return cfg, err
	}
	switch {
	case key != nil:
		cfg.Signer, err = satellite.ParsePrivateKey(key)
		clear(key)
	case sat.KeyFile != "":
		cfg.Signer, err = satellite.LoadPrivateKey(sat.KeyFile)
	default:
		err = errors.New("no private key: store one or name a key file")
	}
	if err != nil {
		return cfg, fmt.Errorf("satellite %s: %w", sat.Name, err)
	}
	return cfg, nil
}

// wakeViaSatellite sends magic packets for macs through sat to broadcast
// (the directed broadcast of the subnet it serves) and returns one result
// per MAC, in order. The error fails the whole wake (no key, unreachable,
// a changed host key); then nothing was sent. A changed host key is also
// written to the audit log, loudly, for an admin to look at.
func (s *Server) wakeViaSatellite(ctx context.Context, sat inventory.Satellite, broadcast netip.Addr, macs []net.HardwareAddr) ([]satellite.Result, error) {
	cfg, err := s.satelliteConfig(ctx, sat)
	if err != nil {
		return nil, err
	}
	// The ports and SecureOn password apply to every route; a command
	// that cannot carry them fails the satellite's targets with a message
	// saying so (satellite.ErrWakeCommandCannot) rather than sending
	// packets that would not wake them.
	cfg.WakePorts, cfg.WakePassword = s.wake.opts.Ports, s.wake.opts.Password
	release, err := s.wake.satSlots.acquire(ctx, sat, slotWake)
	if err != nil {
		return nil, err
	}
	defer release()
	res, err := satellite.Wake(ctx, cfg, broadcast, sat.Interface, macs)
	if err != nil {
		s.noteSatelliteError(ctx, sat, err)
		return nil, err
	}
	return res, nil
}

// noteSatelliteError audits a refused host key: the one failure of a
// satellite that may mean an attack rather than an outage.
func (s *Server) noteSatelliteError(ctx context.Context, sat inventory.Satellite, err error) {
	var changed *satellite.HostKeyChangedError
	if !errors.As(err, &changed) {
		return
	}
	s.log.Error("satellite host key changed: refused to connect", "satellite", sat.Name, "trusted", changed.Want, "offered", changed.Got)
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if aerr := s.store.Audit(actx, inventory.AuditEntry{Actor: "system", Action: "satellite.host_key_changed",
		Target: fmt.Sprintf("satellite/%d", sat.ID), Details: changed.Error()}); aerr != nil {
		s.log.Error("audit", "action", "satellite.host_key_changed", "err", aerr)
	}
}

// satelliteScanner names a satellite as the scanner of its runs.
func satelliteScanner(sat inventory.Satellite) inventory.Scanner {
	return inventory.Scanner{Kind: inventory.ScannerSatellite, ID: sat.Name}
}

// scanViaSatellite runs a scan of sn on a satellite serving it that has
// lanscout installed, when there is one, and reports whether it did. The
// run is recorded like the server's own: one run per subnet at a time,
// devices stored as they arrive, the end stored even when the server
// stops.
func (s *Server) scanViaSatellite(ctx context.Context, sn inventory.Subnet) (dispatched, bool, error) {
	p, err := netip.ParsePrefix(sn.CIDR)
	if err != nil {
		return dispatched{}, false, nil
	}
	sat, found, err := s.scanSatelliteFor(ctx, p)
	if err != nil || !found {
		return dispatched{}, false, err
	}
	cfg, err := s.satelliteConfig(ctx, sat)
	if err != nil {
		return dispatched{}, false, err
	}
	req := satellite.ScanRequest{Target: p, Method: sn.Method}
	if len(sn.Credentials) > 0 {
		creds, err := s.store.RevealCredentials(ctx, sn.Credentials)
		if err != nil {
			return dispatched{}, false, err
		}
		if req.Credentials, err = credentialsYAML(creds); err != nil {
			return dispatched{}, false, err
		}
	}
	by := satelliteScanner(sat)
	j := s.jobs
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return dispatched{}, false, errClosing
	}
	if _, busy := j.running[sn.ID]; busy {
		return dispatched{}, false, errScanRunning
	}
	run, err := s.store.BeginScan(ctx, sn.ID, by, sn.Method)
	if err != nil {
		return dispatched{}, false, err
	}
	j.running[sn.ID] = run.ID
	j.wg.Go(func() {
		defer func() {
			j.mu.Lock()
			delete(j.running, sn.ID)
			j.mu.Unlock()
		}()
		s.runSatelliteScan(sat, cfg, req, sn, run)
	})
	return dispatched{Scanner: by, Run: run}, true, nil
}

// runSatelliteScan runs the remote scan and stores each device as its
// line arrives (a device sent again with late details is stored again,
// as the server's own scans do), then the run's end: also when the stream
// breaks, as a failed run that keeps what arrived.
func (s *Server) runSatelliteScan(sat inventory.Satellite, cfg satellite.Config, req satellite.ScanRequest, sn inventory.Subnet, run inventory.ScanRun) {
	ctx := s.jobs.ctx
	log := s.log.With("subnet", sn.CIDR, "scan", run.ID, "satellite", sat.Name)
	cfg.Logger = log
	log.Info("satellite scan started")
	var recordErr error
	var report *scan.Report
	release, err := s.wake.satSlots.acquire(ctx, sat, slotScan)
	if err == nil {
		report, err = satellite.Scan(ctx, cfg, req, func(d scan.Device) {
			if recordErr != nil {
				return
			}
			if _, err := s.store.RecordDevice(ctx, run.ID, d); err != nil && ctx.Err() == nil {
				recordErr = err
				log.Error("record device", "ip", d.IP, "err", err)
			}
		})
		release()
	}
	s.noteSatelliteError(ctx, sat, err)
	end := inventory.ScanEnd{}
	if report != nil {
		end.Stats = inventory.StatsOf(report.Stats)
		end.Warnings = report.Warnings
		end.Incomplete = report.Incomplete
	}
	switch {
	case ctx.Err() != nil:
		end.Incomplete = true
	case recordErr != nil:
		end.Error = fmt.Sprintf("storing devices: %v", recordErr)
	case err != nil:
		// The satellite package's errors already name the satellite.
		end.Error = err.Error()
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	done, ferr := s.store.FinishScan(fctx, run.ID, end)
	if ferr != nil {
		log.Error("finish scan", "err", ferr)
		return
	}
	log.Info("satellite scan finished", "status", done.Status, "recorded", done.Stats.Recorded, "err", done.Error)
}

// credentialsYAML writes credentials as a --credentials file for a remote
// lanscout; it travels on the command's standard input, never on a
// command line. snmp.Secret masks itself when marshalled, hence the plain
// strings.
func credentialsYAML(creds []snmp.Credential) ([]byte, error) {
	type entry struct {
		Name      string `yaml:"name"`
		Version   string `yaml:"version"`
		Community string `yaml:"community,omitempty"`
		User      string `yaml:"user,omitempty"`
		Auth      string `yaml:"auth,omitempty"`
		AuthPass  string `yaml:"auth_password,omitempty"`
		Priv      string `yaml:"priv,omitempty"`
		PrivPass  string `yaml:"priv_password,omitempty"`
		Context   string `yaml:"context,omitempty"`
	}
	var doc struct {
		Credentials []entry `yaml:"credentials"`
	}
	for _, c := range creds {
		doc.Credentials = append(doc.Credentials, entry{Name: c.Name, Version: c.Version.String(),
			Community: string(c.Community), User: c.User, Auth: string(c.Auth), AuthPass: string(c.AuthPass),
			Priv: string(c.Priv), PrivPass: string(c.PrivPass), Context: c.Context})
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("credentials for a satellite: %w", err)
	}
	return b, nil
}

// satelliteDetails is an audit line for a satellite's settings (never its
// key).
func satelliteDetails(sat inventory.Satellite) string {
	s := fmt.Sprintf("%s %s@%s:%d subnets [%s] wake %q", sat.Name, sat.User, sat.Address, sat.Port,
		strings.Join(sat.Subnets, " "), sat.WakeCommand)
	if sat.Interface != "" {
		s += " iface " + sat.Interface
	}
	return s
}

// DefaultSatelliteConnections is how many SSH connections the server
// opens to one satellite at once, wakes and scans together.
const DefaultSatelliteConnections = 2

// satelliteSlots bounds the SSH connections to each satellite across
// every wake group and scan: a wake of many subnets through the
// all_satellites fallback would otherwise dial every satellite once per
// group at the same time (50 subnets and 10 satellites, 500 connections),
// and sshd's MaxStartups drops the excess. One slot is one connection
// (satellite.Wake and satellite.Scan each dial once).
//
// A scan holds its slot for its whole run (up to 30 minutes) while a wake
// is wanted now, so scans may take at most per-1 slots: with per >= 2 one
// slot is always left to wakes. With per 1 there is nothing to keep back
// and a wake waits behind a scan.
type satelliteSlots struct {
	per  int
	mu   sync.Mutex
	sats map[int64]*satSlots
}

// satSlots are one satellite's: all bounds every connection, scans the
// ones scans hold (a scan takes one of scans before one of all).
type satSlots struct {
	all, scans chan struct{}
}

// slotUse says what a connection is for.
type slotUse int

const (
	slotWake slotUse = iota
	slotScan
)

func newSatelliteSlots(per int) *satelliteSlots {
	return &satelliteSlots{per: per, sats: map[int64]*satSlots{}}
}

// acquire waits for a free connection to sat for use, or for ctx to end;
// release gives it back.
func (l *satelliteSlots) acquire(ctx context.Context, sat inventory.Satellite, use slotUse) (release func(), err error) {
	l.mu.Lock()
	ss, ok := l.sats[sat.ID]
	if !ok {
		ss = &satSlots{all: make(chan struct{}, l.per), scans: make(chan struct{}, max(l.per-1, 1))}
		l.sats[sat.ID] = ss
	}
	l.mu.Unlock()
	if use == slotScan {
		select {
		case ss.scans <- struct{}{}:
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for a free scan connection to satellite %s (at most %d at once): %w", sat.Name, cap(ss.scans), ctx.Err())
		}
	}
	select {
	case ss.all <- struct{}{}:
	case <-ctx.Done():
		if use == slotScan {
			<-ss.scans
		}
		return nil, fmt.Errorf("wait for a free connection to satellite %s (at most %d at once): %w", sat.Name, l.per, ctx.Err())
	}
	return func() {
		<-ss.all
		if use == slotScan {
			<-ss.scans
		}
	}, nil
}
