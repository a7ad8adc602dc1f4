package lab

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/netip"
	"strings"
	"sync"
)

// DefaultHosts is the number of hosts in a lab whose Config.Hosts is zero:
// one full /24.
const DefaultHosts = 254

// MaxHosts keeps the hosts and the specials on one bridge, which takes at
// most 1,023 ports.
const MaxHosts = 1000

// Config describes a lab. The zero value is a LAN of DefaultHosts hosts and
// a scanner.
type Config struct {
	// Prefix is the LAN, a /16 inside 10.0.0.0/8. Default: a random
	// 10.X.0.0/16.
	Prefix netip.Prefix
	// Hosts is the number of hosts, each with its own interface, MAC and
	// address, numbered from the LAN's 10.X.1.1. Zero means DefaultHosts,
	// negative means none.
	Hosts int
	// AnyIP adds a responder that answers ARP and ICMP for every address
	// of the LAN's upper half (10.X.128.0/17) with one MAC.
	AnyIP bool
	// Conflict adds two interfaces in two namespaces, with different MACs,
	// that both own one address.
	Conflict bool
	// ProxyARP, when positive, adds one interface (one MAC) answering ARP
	// for that many addresses.
	ProxyARP int
	// GratuitousOnly adds a host that never answers ARP; it shows itself
	// only when SendGratuitousARP is called.
	GratuitousOnly bool
	// SourceRouting gives every host a routing rule so that what it sends
	// from its address leaves through its own interface, with its own MAC,
	// as services on the hosts (snmpd, sshd) need. ARP needs no such rule.
	SourceRouting bool
	// Routed, when set, adds a router between the LAN and a second subnet,
	// and makes it the scanner's default gateway.
	Routed *RoutedConfig
	// Logger receives progress at debug level and problems during Close.
	// Default: discard.
	Logger *slog.Logger
}

// RoutedConfig describes the subnet behind the lab's router.
type RoutedConfig struct {
	// Prefix is the remote subnet, a /24 inside 10.0.0.0/8 outside the
	// LAN. Default: a random 10.Y.1.0/24.
	Prefix netip.Prefix
	// ICMPHosts answer ping. Zero means 3, negative none.
	ICMPHosts int
	// SilentHosts drop ICMP echo requests and accept TCP connections on
	// TCPPort. Zero means 1, negative none.
	SilentHosts int
	// TCPPort is the silent hosts' listening port. Default 22.
	TCPPort uint16
}

// Host is an address that answers, with the MAC it answers with.
type Host struct {
	IP        netip.Addr
	MAC       net.HardwareAddr
	Interface string // in Lab.HostsNS for lab hosts
}

// Endpoint is one interface of the lab.
type Endpoint struct {
	Namespace string
	Interface string
	Addr      netip.Prefix // address and the LAN's prefix length
	MAC       net.HardwareAddr
}

// Host returns the endpoint's address and MAC.
func (e Endpoint) Host() Host { return Host{IP: e.Addr.Addr(), MAC: e.MAC, Interface: e.Interface} }

// Responder is the AnyIP responder.
type Responder struct {
	Endpoint
	Range netip.Prefix // every address answers, with Endpoint.MAC
}

// Conflict is one address owned by two interfaces.
type Conflict struct {
	IP        netip.Addr
	Endpoints [2]Endpoint
}

// ProxyARP is one interface answering for several addresses.
type ProxyARP struct {
	Endpoint // Endpoint.Addr is the first of IPs
	IPs      []netip.Addr
}

// Router joins the LAN to the remote subnet.
type Router struct {
	LAN         Endpoint     // the router's leg on the LAN: the scanner's gateway
	Remote      netip.Prefix // the subnet behind it
	Gateway     netip.Addr   // the router's own address in Remote (.1)
	Namespace   string       // namespace holding the remote hosts
	ICMPHosts   []netip.Addr // answer ping
	SilentHosts []netip.Addr // drop ping, accept TCP on TCPPort
	TCPPort     uint16
}

// Lab is a running test LAN. Its fields describe it; they must not be
// modified. Its methods are safe for concurrent use.
type Lab struct {
	ID        string       // random hex; names start with "lsl"+ID
	Prefix    netip.Prefix // the LAN
	Switch    string       // namespace of the bridge
	Scanner   Endpoint
	HostsNS   string // namespace of Hosts; "" when there are none
	Hosts     []Host // by address
	Responder *Responder
	Conflict  *Conflict
	ProxyARP  *ProxyARP
	// Quiet is the host that only sends gratuitous ARP.
	Quiet  *Endpoint
	Router *Router

	logger *slog.Logger
	tools  tools
	bridge string
	// scannerPort is the scanner's port on the bridge, where loss is
	// applied.
	scannerPort string

	mu         sync.Mutex
	closed     bool
	rec        record
	namespaces []string // created, in order
	procs      []*Process
	closers    []func() error
	limits     bool // holds the raised global limits
	lossTable  bool
}

// New builds the lab described by cfg. On failure everything already
// created is removed before returning.
func New(ctx context.Context, cfg Config) (*Lab, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var t tools
	var err error
	if t.ip, err = findTool("ip"); err != nil {
		return nil, fmt.Errorf("find iproute2: %w", err)
	}
	needNft := cfg.Routed != nil
	if t.nft, err = findTool("nft"); err != nil && needNft {
		return nil, fmt.Errorf("find nftables: %w", err)
	}

	id, err := randomHex(3)
	if err != nil {
		return nil, fmt.Errorf("generate lab ID: %w", err)
	}
	l := &Lab{
		ID:     id,
		logger: logger.With("lab", id),
		tools:  t,
		rec:    record{Owner: self()},
	}
	// Under the lock: remove labs of dead processes, then pick blocks no
	// live lab uses and record them before another process can pick them.
	// Labs are isolated by their namespaces anyway; distinct blocks keep
	// captures and logs of concurrent labs from being confused.
	if err := withStateLock(func() error {
		reapOrphans(ctx, t, logger)
		if err := fillDefaults(&cfg, usedOctets()); err != nil {
			return err
		}
		l.Prefix = cfg.Prefix
		l.rec.Prefixes = []netip.Prefix{cfg.Prefix}
		if cfg.Routed != nil {
			l.rec.Prefixes = append(l.rec.Prefixes, cfg.Routed.Prefix)
		}
		return writeRecord(id, l.rec)
	}); err != nil {
		_ = removeRecord(id)
		return nil, err
	}
	if err := l.build(ctx, cfg); err != nil {
		if cerr := l.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("clean up after failed build: %w", cerr))
		}
		return nil, fmt.Errorf("build lab %s: %w", id, err)
	}
	return l, nil
}

// fillDefaults validates cfg and fills its zero fields; random blocks are
// 10.X with X not in used when possible.
func fillDefaults(cfg *Config, used map[byte]bool) error {
	ten := netip.MustParsePrefix("10.0.0.0/8")
	if !cfg.Prefix.IsValid() {
		x, err := randomOctet(used)
		if err != nil {
			return err
		}
		used[x] = true
		cfg.Prefix = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, x, 0, 0}), 16)
	}
	cfg.Prefix = cfg.Prefix.Masked()
	if cfg.Prefix.Bits() != 16 || !ten.Contains(cfg.Prefix.Addr()) {
		return fmt.Errorf("lab prefix %s: want a /16 inside %s", cfg.Prefix, ten)
	}
	switch {
	case cfg.Hosts == 0:
		cfg.Hosts = DefaultHosts
	case cfg.Hosts < 0:
		cfg.Hosts = 0
	case cfg.Hosts > MaxHosts:
		return fmt.Errorf("%d hosts: at most %d fit on one bridge", cfg.Hosts, MaxHosts)
	}
	if cfg.ProxyARP > 100 {
		return fmt.Errorf("%d proxy-ARP addresses: at most 100", cfg.ProxyARP)
	}
	if r := cfg.Routed; r != nil {
		rc := *r
		if !rc.Prefix.IsValid() {
			used[cfg.Prefix.Addr().As4()[1]] = true
			y, err := randomOctet(used)
			if err != nil {
				return err
			}
			rc.Prefix = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, y, 1, 0}), 24)
		}
		rc.Prefix = rc.Prefix.Masked()
		if rc.Prefix.Bits() != 24 || !ten.Contains(rc.Prefix.Addr()) || cfg.Prefix.Overlaps(rc.Prefix) {
			return fmt.Errorf("remote prefix %s: want a /24 inside %s outside the LAN %s", rc.Prefix, ten, cfg.Prefix)
		}
		rc.ICMPHosts = defaultCount(rc.ICMPHosts, 3)
		rc.SilentHosts = defaultCount(rc.SilentHosts, 1)
		if rc.ICMPHosts+rc.SilentHosts > 200 {
			return fmt.Errorf("%d remote hosts: at most 200", rc.ICMPHosts+rc.SilentHosts)
		}
		if rc.TCPPort == 0 {
			rc.TCPPort = 22
		}
		cfg.Routed = &rc
	}
	return nil
}

func defaultCount(n, def int) int {
	switch {
	case n == 0:
		return def
	case n < 0:
		return 0
	}
	return n
}

// Addresses inside the LAN's 10.X.0.0/24 for the scanner and the specials.
const (
	offScanner   = 1
	offResponder = 2
	offConflict  = 10
	offProxyARP  = 100 // up to 100 addresses
	offQuiet     = 30
	offRouter    = 254
)

// at returns the address n past the start of p.
func at(p netip.Prefix, n int) netip.Addr {
	a := p.Addr().As4()
	v := binary.BigEndian.Uint32(a[:]) + uint32(n)
	binary.BigEndian.PutUint32(a[:], v)
	return netip.AddrFrom4(a)
}

// mac gives every interface of a lab its own locally administered MAC:
// 02, the lab ID, then a role and an index.
func (l *Lab) mac(role byte, n int) net.HardwareAddr {
	id, _ := hex.DecodeString(l.ID)
	if role == 0 {
		return net.HardwareAddr{0x02, id[0], id[1], id[2], byte(n >> 8), byte(n)}
	}
	return net.HardwareAddr{0x02, id[0], id[1], id[2], 0xf0 | role, byte(n)}
}

// The roles of mac; hosts use role 0 and their index.
const (
	roleScanner byte = iota + 1
	roleResponder
	roleConflict
	roleProxyARP
	roleQuiet
	roleRouter
)

func (l *Lab) name(suffix string) string { return "lsl" + l.ID + suffix }

// addNamespace creates a namespace with IPv6 disabled (to keep the traffic
// readable) and lo up, and records it for Close.
func (l *Lab) addNamespace(ctx context.Context, suffix string, extra ...sysctl) (string, error) {
	ns := l.name(suffix)
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return "", errClosed
	}
	// Record first: a process killed between the two steps leaves a
	// namespace the next lab will find.
	l.rec.Namespaces = append(l.rec.Namespaces, ns)
	err := writeRecord(l.ID, l.rec)
	l.mu.Unlock()
	if err != nil {
		return "", err
	}
	if _, err := run(ctx, "", l.tools.ip, "netns", "add", ns); err != nil {
		return "", fmt.Errorf("create namespace %s: %w", ns, err)
	}
	l.mu.Lock()
	l.namespaces = append(l.namespaces, ns)
	l.mu.Unlock()
	settings := append([]sysctl{
		{"net.ipv6.conf.all.disable_ipv6", "1"},
		{"net.ipv6.conf.default.disable_ipv6", "1"},
	}, extra...)
	if err := setSysctls(ns, settings); err != nil {
		return "", err
	}
	if _, err := run(ctx, "", l.tools.ip, "-n", ns, "link", "set", "lo", "up"); err != nil {
		return "", fmt.Errorf("bring lo up in %s: %w", ns, err)
	}
	return ns, nil
}

// ipBatch runs b with `ip -n ns -batch -`.
func (l *Lab) ipBatch(ctx context.Context, ns string, b *batch) error {
	if len(b.lines) == 0 {
		return nil
	}
	if _, err := run(ctx, b.String(), l.tools.ip, "-n", ns, "-batch", "-"); err != nil {
		return fmt.Errorf("configure %s: %w", ns, err)
	}
	return nil
}

// nft loads an nftables script inside ns.
func (l *Lab) nft(ctx context.Context, ns, script string) error {
	if l.tools.nft == "" {
		return fmt.Errorf("nftables: %w", errNoNft)
	}
	if _, err := run(ctx, script, l.tools.ip, "netns", "exec", ns, l.tools.nft, "-f", "-"); err != nil {
		return fmt.Errorf("load nftables rules in %s: %w", ns, err)
	}
	return nil
}

var errNoNft = errors.New("nft not found")

// port plugs an interface of namespace ns into the bridge: the veth is
// created from the switch namespace, its far end moved straight into ns.
func (l *Lab) port(sw *batch, ns, port, ifname string, mac net.HardwareAddr) {
	sw.add("link add %s type veth peer name %s netns %s address %s", port, ifname, ns, mac)
	sw.add("link set %s master %s up", port, l.bridge)
}

func (l *Lab) build(ctx context.Context, cfg Config) error {
	if cfg.Hosts >= 200 || cfg.AnyIP {
		if err := raiseLimits(l.ID); err != nil {
			return fmt.Errorf("raise global limits: %w", err)
		}
		l.mu.Lock()
		l.limits = true
		l.mu.Unlock()
	}

	var err error
	if l.Switch, err = l.addNamespace(ctx, "-sw"); err != nil {
		return err
	}
	l.bridge = l.name("-br")
	sw := &batch{}
	sw.add("link add %s type bridge stp_state 0 mcast_snooping 0", l.bridge)
	sw.add("link set %s up", l.bridge)
	// Per-namespace configuration, run after the switch batch has created
	// the interfaces.
	type nsBatch struct {
		ns string
		b  *batch
	}
	var later []nsBatch
	lanBits := l.Prefix.Bits()
	endpoint := func(ns, suffix string, role byte, n int, addr netip.Addr) Endpoint {
		e := Endpoint{
			Namespace: ns,
			Interface: l.name("-" + suffix),
			Addr:      netip.PrefixFrom(addr, lanBits),
			MAC:       l.mac(role, n),
		}
		l.port(sw, ns, l.name("p"+suffix), e.Interface, e.MAC)
		b := &batch{}
		b.add("addr add %s dev %s", e.Addr, e.Interface)
		b.add("link set %s up", e.Interface)
		later = append(later, nsBatch{ns, b})
		return e
	}

	// The scanner.
	ns, err := l.addNamespace(ctx, "-scan")
	if err != nil {
		return err
	}
	l.Scanner = endpoint(ns, "scan", roleScanner, 0, at(l.Prefix, offScanner))
	l.scannerPort = l.name("pscan")

	// The hosts: one veth each, so each answers with its own MAC.
	if cfg.Hosts > 0 {
		ns, err := l.addNamespace(ctx, "-hosts",
			// Each interface answers ARP only for its own address, with its
			// own MAC, and replies leave from the owning address.
			sysctl{"net.ipv4.conf.all.arp_ignore", "1"},
			sysctl{"net.ipv4.conf.all.arp_announce", "2"},
			// Hundreds of interfaces in one subnet, and scanners that use a
			// sender address a host owns.
			sysctl{"net.ipv4.conf.all.rp_filter", "0"},
			sysctl{"net.ipv4.conf.default.rp_filter", "0"},
			sysctl{"net.ipv4.conf.all.accept_local", "1"},
			sysctl{"net.ipv4.conf.default.accept_local", "1"},
		)
		if err != nil {
			return err
		}
		l.HostsNS = ns
		hb := &batch{}
		base := netip.PrefixFrom(at(l.Prefix, 256), 24)
		for i := 1; i <= cfg.Hosts; i++ {
			// 254 per /24: skip the .0 and .255 of every /24.
			ip := at(base, (i-1)/254*256+(i-1)%254+1)
			ifname := l.name(fmt.Sprintf("h%d", i))
			h := Host{IP: ip, MAC: l.mac(0, i), Interface: ifname}
			l.port(sw, ns, l.name(fmt.Sprintf("p%d", i)), ifname, h.MAC)
			// Only the first address brings the LAN's route; the others
			// would add hundreds of duplicates.
			opt := ""
			if i > 1 {
				opt = " noprefixroute"
			}
			hb.add("addr add %s dev %s%s", netip.PrefixFrom(ip, lanBits), ifname, opt)
			hb.add("link set %s up", ifname)
			if cfg.SourceRouting {
				table := 1000 + i
				hb.add("rule add from %s table %d", ip, table)
				hb.add("route add %s dev %s src %s table %d", l.Prefix, ifname, ip, table)
			}
			l.Hosts = append(l.Hosts, h)
		}
		later = append(later, nsBatch{ns, hb})
	}

	if cfg.AnyIP {
		ns, err := l.addNamespace(ctx, "-any")
		if err != nil {
			return err
		}
		e := endpoint(ns, "any", roleResponder, 0, at(l.Prefix, offResponder))
		r := &Responder{Endpoint: e, Range: netip.PrefixFrom(at(l.Prefix, 128*256), 17)}
		b := &batch{}
		// AnyIP: a local route makes the kernel answer ARP and ICMP for
		// every address of the range.
		b.add("route add local %s dev lo", r.Range)
		later = append(later, nsBatch{ns, b})
		l.Responder = r
	}

	if cfg.Conflict {
		c := &Conflict{IP: at(l.Prefix, offConflict)}
		for i, s := range []string{"dupa", "dupb"} {
			ns, err := l.addNamespace(ctx, "-"+s)
			if err != nil {
				return err
			}
			c.Endpoints[i] = endpoint(ns, s, roleConflict, i, c.IP)
		}
		l.Conflict = c
	}

	if cfg.ProxyARP > 0 {
		ns, err := l.addNamespace(ctx, "-parp")
		if err != nil {
			return err
		}
		first := at(l.Prefix, offProxyARP)
		p := &ProxyARP{Endpoint: endpoint(ns, "parp", roleProxyARP, 0, first), IPs: []netip.Addr{first}}
		b := &batch{}
		for i := 1; i < cfg.ProxyARP; i++ {
			ip := at(l.Prefix, offProxyARP+i)
			b.add("addr add %s dev %s noprefixroute", netip.PrefixFrom(ip, lanBits), p.Interface)
			p.IPs = append(p.IPs, ip)
		}
		later = append(later, nsBatch{ns, b})
		l.ProxyARP = p
	}

	if cfg.GratuitousOnly {
		// arp_ignore=8: never answer ARP, whatever is asked.
		ns, err := l.addNamespace(ctx, "-garp", sysctl{"net.ipv4.conf.all.arp_ignore", "8"})
		if err != nil {
			return err
		}
		e := endpoint(ns, "garp", roleQuiet, 0, at(l.Prefix, offQuiet))
		l.Quiet = &e
	}

	var scannerRoute *batch
	if rc := cfg.Routed; rc != nil {
		rns, err := l.addNamespace(ctx, "-rtr",
			sysctl{"net.ipv4.ip_forward", "1"},
			sysctl{"net.ipv4.conf.all.rp_filter", "0"},
			sysctl{"net.ipv4.conf.default.rp_filter", "0"},
		)
		if err != nil {
			return err
		}
		fns, err := l.addNamespace(ctx, "-far")
		if err != nil {
			return err
		}
		r := &Router{
			LAN:       endpoint(rns, "rtr", roleRouter, 0, at(l.Prefix, offRouter)),
			Remote:    rc.Prefix,
			Namespace: fns,
			TCPPort:   rc.TCPPort,
		}
		gw := at(rc.Prefix, 1)
		r.Gateway = gw
		rleg, fleg := l.name("-rtrf"), l.name("-far")
		rb := &batch{}
		rb.add("link add %s type veth peer name %s netns %s address %s", rleg, fleg, fns, l.mac(roleRouter, 2))
		rb.add("addr add %s dev %s", netip.PrefixFrom(gw, 24), rleg)
		rb.add("link set %s up", rleg)
		fb := &batch{}
		fb.add("link set %s up", fleg)
		var all []netip.Addr
		for i := 0; i < rc.ICMPHosts; i++ {
			r.ICMPHosts = append(r.ICMPHosts, at(rc.Prefix, 10+i))
		}
		for i := 0; i < rc.SilentHosts; i++ {
			r.SilentHosts = append(r.SilentHosts, at(rc.Prefix, 100+i))
		}
		all = append(append(all, r.ICMPHosts...), r.SilentHosts...)
		for i, ip := range all {
			opt := ""
			if i > 0 {
				opt = " noprefixroute"
			}
			fb.add("addr add %s dev %s%s", netip.PrefixFrom(ip, 24), fleg, opt)
		}
		if len(all) == 0 {
			fb.add("route add %s dev %s", rc.Prefix, fleg)
		}
		fb.add("route add default via %s dev %s", gw, fleg)
		// rtr's batch must run after its LAN leg exists (it is in later
		// too), and far's after rtr's created the veth.
		later = append(later, nsBatch{rns, rb}, nsBatch{fns, fb})
		scannerRoute = &batch{}
		scannerRoute.add("route add default via %s dev %s", r.LAN.Addr.Addr(), l.Scanner.Interface)
		l.Router = r
	}

	l.logger.Debug("creating links", "ports", len(sw.lines)/2)
	if err := l.ipBatch(ctx, l.Switch, sw); err != nil {
		return err
	}
	for _, nb := range later {
		if err := l.ipBatch(ctx, nb.ns, nb.b); err != nil {
			return err
		}
	}
	if scannerRoute != nil {
		if err := l.ipBatch(ctx, l.Scanner.Namespace, scannerRoute); err != nil {
			return err
		}
	}
	if r := l.Router; r != nil {
		if err := l.startRemoteServices(ctx, r); err != nil {
			return err
		}
	}
	l.logger.Debug("lab ready", "prefix", l.Prefix, "hosts", len(l.Hosts), "scanner", l.Scanner.Interface)
	return nil
}

// startRemoteServices makes the silent hosts silent and gives them
// something to connect to.
func (l *Lab) startRemoteServices(ctx context.Context, r *Router) error {
	if len(r.SilentHosts) == 0 {
		return nil
	}
	var set []string
	for _, ip := range r.SilentHosts {
		set = append(set, ip.String())
	}
	script := fmt.Sprintf(`table ip lab {
	chain input {
		type filter hook input priority 0; policy accept;
		ip daddr { %s } icmp type echo-request counter drop
	}
}
`, strings.Join(set, ", "))
	if err := l.nft(ctx, r.Namespace, script); err != nil {
		return err
	}
	for _, ip := range r.SilentHosts {
		if err := l.listenTCP(r.Namespace, netip.AddrPortFrom(ip, r.TCPPort)); err != nil {
			return err
		}
	}
	return nil
}

// Close removes everything the lab created: processes first (a namespace
// lives on while a process is in it), then listeners, namespaces, the
// record, and the lab's hold on the global limits. It returns every error
// met but does not stop at the first. Calls after the first return nil.
func (l *Lab) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	procs, closers, namespaces, limits := l.procs, l.closers, l.namespaces, l.limits
	l.mu.Unlock()

	var errs []error
	for _, p := range procs {
		if err := p.Stop(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, c := range closers {
		if err := c(); err != nil {
			errs = append(errs, err)
		}
	}
	// Close must not be cut short by an expired caller context.
	ctx := context.Background()
	for i := len(namespaces) - 1; i >= 0; i-- {
		ns := namespaces[i]
		if _, err := run(ctx, "", l.tools.ip, "netns", "del", ns); err != nil {
			errs = append(errs, fmt.Errorf("delete namespace %s: %w", ns, err))
		}
	}
	if len(errs) == 0 {
		if err := removeRecord(l.ID); err != nil {
			errs = append(errs, err)
		}
	}
	if limits {
		if err := releaseLimits(l.ID); err != nil {
			errs = append(errs, fmt.Errorf("restore global limits: %w", err))
		}
	}
	err := errors.Join(errs...)
	if err != nil {
		l.logger.Warn("lab teardown incomplete", "err", err)
	}
	return err
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// randomOctet picks a random second octet in 1..254 outside used, or any
// if (improbably) they are all used.
func randomOctet(used map[byte]bool) (byte, error) {
	for range 64 {
		x, err := randomByte(1, 254)
		if err != nil || !used[x] {
			return x, err
		}
	}
	for x := byte(1); x < 255; x++ {
		if !used[x] {
			return x, nil
		}
	}
	return randomByte(1, 254)
}

func randomByte(lo, hi int) (byte, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(int64(hi-lo+1)))
	if err != nil {
		return 0, fmt.Errorf("pick a random prefix: %w", err)
	}
	return byte(lo + int(n.Int64())), nil
}
