package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"

	"github.com/lanscout/lanscout/agent/ocs"
	"github.com/lanscout/lanscout/discover/oui"
	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/scan"
)

// OCSOptions configure the endpoint OCS Inventory agents report to.
type OCSOptions struct {
	// Enabled serves the endpoint; off by default, since it takes
	// inventories from anyone who can reach it unless Users is set.
	Enabled bool
	// Path is where agents POST; default "/ocsinventory", as agents
	// configured for a real OCS server expect.
	Path string
	// Users, when any, require HTTP basic auth. Agents answer a 401
	// challenge only for the realm they were configured with (--realm).
	Users []OCSUser
	Realm string // default "OCS Inventory"
	// PrologFreq is the PROLOG_FREQ sent to agents: hours between their
	// contacts when they run as a service. Default 24.
	PrologFreq int
	// IPDiscoverLatency is the IPDISC_LAT sent to elected agents: the
	// milliseconds between two probes of their sweep. Default 100, as OCS
	// servers ship; lower sweeps faster and louder.
	IPDiscoverLatency int
	// Limits bound request bodies; zero fields take the package ocs
	// defaults, and MaxBody never exceeds the server's MaxBodyBytes.
	Limits ocs.Limits
}

// OCSUser is one account agents may authenticate as. Exactly one of
// BcryptHash and Password is set; a plain password is compared in
// constant time.
type OCSUser struct {
	Name       string
	BcryptHash string
	Password   string
}

type ocsService struct {
	opts OCSOptions
	// dummyHash makes a wrong user name cost a bcrypt comparison too.
	dummyHash []byte
	// limiter counts wrong credentials per client address only: a fleet
	// shares one account, and one agent with an old password must not
	// lock the others out. An agent calls once per PROLOG_FREQ; only a
	// guesser fails ocsFailuresPerIP times in ocsFailureWindow.
	limiter *loginLimiter
	// busy bounds the requests decoded and stored at once: bodies are
	// decompressed and parsed in memory, and an agent told 503 simply
	// calls again at its next run.
	busy chan struct{}
}

// ocsConcurrent is how many OCS requests are served at once.
const ocsConcurrent = 4

// The basic-auth failure limit per client address.
const (
	ocsFailuresPerIP = 20
	ocsFailureWindow = 15 * time.Minute
)

// ocsMethod is the method OCS agents' discovery runs are recorded with.
const ocsMethod = "ocs-ipdiscover"

func init() { pageTitles["ocs.html"] = "OCS agents" }

func (s *Server) initOCS() error {
	o := s.opts.OCS
	if o.Path == "" {
		o.Path = "/ocsinventory"
	}
	if !strings.HasPrefix(o.Path, "/") || strings.HasPrefix(o.Path, "/api/") || strings.ContainsAny(o.Path, ":*?#") {
		return fmt.Errorf("web: OCS path %q: want an absolute path outside /api/ with no : * ? #", o.Path)
	}
	o.Path = "/" + strings.Trim(o.Path, "/")
	if o.Realm == "" {
		o.Realm = "OCS Inventory"
	}
	if o.PrologFreq <= 0 {
		o.PrologFreq = 24
	}
	if o.IPDiscoverLatency <= 0 {
		o.IPDiscoverLatency = 100
	}
	if o.Limits.MaxBody <= 0 || o.Limits.MaxBody > s.opts.MaxBodyBytes {
		o.Limits.MaxBody = s.opts.MaxBodyBytes
	}
	svc := &ocsService{opts: o, limiter: newLoginLimiter(ocsFailureWindow, ocsFailuresPerIP, math.MaxInt, s.opts.Now),
		busy: make(chan struct{}, ocsConcurrent)}
	for _, u := range o.Users {
		if u.Name == "" || (u.BcryptHash == "") == (u.Password == "") {
			return fmt.Errorf("web: OCS user %q: want a name and exactly one of a bcrypt hash and a password", u.Name)
		}
		if u.BcryptHash != "" {
			if _, err := bcrypt.Cost([]byte(u.BcryptHash)); err != nil {
				return fmt.Errorf("web: OCS user %q: bcrypt hash: %w", u.Name, err)
			}
			svc.dummyHash = []byte(u.BcryptHash)
		}
	}
	s.ocs = svc
	return nil
}

func (s *Server) ocsRoutes(e *gin.Engine) {
	if s.ocs.opts.Enabled {
		e.POST(s.ocs.opts.Path, s.ocsEndpoint)
		e.POST(s.ocs.opts.Path+"/", s.ocsEndpoint)
	}
	e.GET("/ocs", s.requireSession, s.ocsPage)
	e.GET("/api/v1/ocs/agents", s.requireAPI, s.apiOCSAgents)
}

// ocsFail ends an agent request with a plain-text error; agents log the
// status line only.
func ocsFail(c *gin.Context, status int, msg string) {
	c.Header("Cache-Control", "no-store")
	c.String(status, msg+"\n")
	c.Abort()
}

// ocsAuthorized checks basic auth against every configured user, doing
// the same work whichever user name is given.
func (svc *ocsService) authorized(r *http.Request) bool {
	name, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	nameSum := sha256.Sum256([]byte(name))
	passSum := sha256.Sum256([]byte(pass))
	var match *OCSUser
	for i := range svc.opts.Users {
		u := &svc.opts.Users[i]
		us := sha256.Sum256([]byte(u.Name))
		if subtle.ConstantTimeCompare(nameSum[:], us[:]) == 1 && match == nil {
			match = u
		}
	}
	switch {
	case match == nil:
		if svc.dummyHash != nil {
			_ = bcrypt.CompareHashAndPassword(svc.dummyHash, []byte(pass))
		}
		return false
	case match.BcryptHash != "":
		return bcrypt.CompareHashAndPassword([]byte(match.BcryptHash), []byte(pass)) == nil
	default:
		ps := sha256.Sum256([]byte(match.Password))
		return subtle.ConstantTimeCompare(passSum[:], ps[:]) == 1
	}
}

// ocsEndpoint serves POST /ocsinventory: one request of an OCS agent.
func (s *Server) ocsEndpoint(c *gin.Context) {
	svc := s.ocs
	log := s.log.With("ocs_client", c.ClientIP())
	select {
	case svc.busy <- struct{}{}:
		defer func() { <-svc.busy }()
	default:
		log.Warn("ocs: request refused: too many at once", "limit", ocsConcurrent)
		c.Header("Retry-After", "30")
		ocsFail(c, http.StatusServiceUnavailable, "busy; try later")
		return
	}
	if len(svc.opts.Users) > 0 {
		ip := c.ClientIP()
		if wait := svc.limiter.blocked(ip, ""); wait > 0 {
			log.Warn("ocs: basic auth refused: too many failures from this address", "retry_after", wait)
			c.Header("Retry-After", strconv.Itoa(int(wait.Round(time.Second).Seconds())))
			ocsFail(c, http.StatusTooManyRequests, "too many failed logins; try later")
			return
		}
		if !svc.authorized(c.Request) {
			// Agents ask first without credentials and answer the
			// challenge: only wrong credentials count as a failure.
			if _, _, given := c.Request.BasicAuth(); given {
				svc.limiter.fail(ip, "")
				log.Warn("ocs: basic auth refused")
			}
			c.Header("WWW-Authenticate", fmt.Sprintf("Basic realm=%q", svc.opts.Realm))
			ocsFail(c, http.StatusUnauthorized, "authentication required")
			return
		}
	}
	doc, enc, err := ocs.DecodeBody(c.Request.Body, svc.opts.Limits)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			err = fmt.Errorf("%w: over %d bytes", ocs.ErrTooLarge, mbe.Limit)
		}
		log.Warn("ocs: body refused", "err", err)
		ocsFail(c, http.StatusBadRequest, "bad request: "+err.Error())
		return
	}
	req, err := ocs.ParseRequest(doc)
	if err != nil {
		log.Warn("ocs: request refused", "err", err)
		ocsFail(c, http.StatusBadRequest, "bad request: "+err.Error())
		return
	}
	host, _, err := ocs.ParseDeviceID(req.DeviceID)
	if err != nil {
		log.Warn("ocs: bad DEVICEID", "err", err, "query", req.Query)
		ocsFail(c, http.StatusBadRequest, "bad request: "+err.Error())
		return
	}
	log = log.With("device_id", req.DeviceID, "query", req.Query)
	userAgent := c.Request.UserAgent()
	ua, uaErr := ocs.ParseUserAgent(userAgent)

	var reply ocs.Reply
	switch req.Query {
	case ocs.QueryProlog:
		if uaErr != nil {
			// As OCS servers do: an unknown agent is told to stop, and
			// exits quietly.
			log.Warn("ocs: unknown agent told to stop", "err", uaErr)
			reply = ocs.Reply{Response: ocs.Stop}
			break
		}
		reply, err = s.ocsProlog(c.Request.Context(), req, userAgent)
	case ocs.QueryInventory:
		if uaErr != nil {
			log.Warn("ocs: inventory from an unknown agent refused", "err", uaErr)
			ocsFail(c, http.StatusBadRequest, "bad request: "+uaErr.Error())
			return
		}
		if req.Content == nil {
			log.Warn("ocs: inventory without CONTENT refused")
			ocsFail(c, http.StatusBadRequest, "bad request: INVENTORY without CONTENT")
			return
		}
		// The machine, its discovery runs and the election's news go in
		// together even if the agent hangs up half-way: a run begun must
		// be finished.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), time.Minute)
		reply, err = s.ocsInventory(ctx, req, host, userAgent, ua)
		cancel()
	default:
		log.Warn("ocs: query not supported")
		ocsFail(c, http.StatusBadRequest, fmt.Sprintf("bad request: query %q is not supported", req.Query))
		return
	}
	if err != nil {
		if errors.Is(err, inventory.ErrInvalid) {
			log.Warn("ocs: request refused", "err", err)
			ocsFail(c, http.StatusBadRequest, "bad request: "+err.Error())
			return
		}
		log.Error("ocs: request failed", "err", err)
		ocsFail(c, http.StatusInternalServerError, "internal error")
		return
	}
	out, err := reply.Marshal()
	if err == nil {
		out, err = ocs.EncodeBody(out, enc)
	}
	if err != nil {
		log.Error("ocs: encode reply", "err", err)
		ocsFail(c, http.StatusInternalServerError, "internal error")
		return
	}
	ct := "application/x-compress"
	if enc == ocs.Plain {
		ct = "application/xml; charset=utf-8"
	}
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, ct, out)
	log.Info("ocs: request served", "response", reply.Response, "options", len(reply.Options), "encoding", enc.String())
}

// ocsProlog counts the contact, lets the election react to it, and asks
// an elected agent to discover its subnet.
func (s *Server) ocsProlog(ctx context.Context, req *ocs.Request, userAgent string) (ocs.Reply, error) {
	if a, err := s.store.AgentByUID(ctx, req.DeviceID); err == nil && a.Kind != inventory.AgentOCS {
		// Its contacts would count as our agent's.
		s.log.Warn("ocs: DEVICEID of a non-OCS agent told to stop", "agent", a.UID, "kind", a.Kind)
		return ocs.Reply{Response: ocs.Stop}, nil
	} else if err != nil && !errors.Is(err, inventory.ErrNotFound) {
		return ocs.Reply{}, err
	}
	a, err := s.store.RecordAgentContact(ctx, req.DeviceID, inventory.AgentOCS)
	if errors.Is(err, inventory.ErrUIDTaken) {
		// Enrolled as ours since the look-up above: the store refused.
		s.log.Warn("ocs: DEVICEID of a non-OCS agent told to stop", "agent", req.DeviceID)
		return ocs.Reply{Response: ocs.Stop}, nil
	}
	if err != nil {
		return ocs.Reply{}, err
	}
	if a.Revoked {
		// As for an unknown agent: told to stop, it exits quietly.
		s.log.Warn("ocs: revoked agent told to stop", "agent", a.UID)
		return ocs.Reply{Response: ocs.Stop}, nil
	}
	// Before it is asked again: an elected agent that keeps calling but
	// never sends the inventory its sweep rides on must fail like any
	// scanner, and lose its seat, not keep it in silence.
	// Its OCS state, once: what it was asked last time and its gateway.
	st, err := s.store.OCSAgent(ctx, a.ID)
	if errors.Is(err, inventory.ErrNotFound) {
		st = inventory.OCSAgent{}
	} else if err != nil {
		return ocs.Reply{}, err
	}
	silent := s.ocsSilentSweep(ctx, a, st)
	if err := s.reelect(ctx, "ocs contact"); err != nil {
		s.log.Warn("ocs: re-election after a contact failed", "agent", a.UID, "err", err)
	}
	reply := ocs.Reply{Response: ocs.Send, PrologFreq: s.ocs.opts.PrologFreq}
	gw, _ := netip.ParseAddr(st.Gateway) // invalid when unknown
	asked, err := s.ocsSubnetToAsk(ctx, a.ID, gw)
	if err != nil {
		return ocs.Reply{}, err
	}
	p := inventory.OCSProlog{AgentID: a.ID, UserAgent: userAgent, Note: silent}
	if asked != nil {
		prefix := netip.MustParsePrefix(asked.CIDR)
		reply.Options = append(reply.Options, ocs.IPDiscoverOption(prefix, s.ocs.opts.IPDiscoverLatency))
		p.AskedSubnetID, p.AskedCIDR = asked.ID, asked.CIDR
	}
	if err := s.store.RecordOCSProlog(ctx, p); err != nil {
		return ocs.Reply{}, err
	}
	return reply, nil
}

// ocsSilentSweep reports as a failed scan the sweep the agent was asked
// for at its last prolog (st, its stored OCS state, zero when it has none)
// when no inventory came after it (its IpDiscover results come only with
// one), and returns what it reported, "" when nothing was missing. An
// inventory at the very instant of the prolog counts as following it.
func (s *Server) ocsSilentSweep(ctx context.Context, a inventory.Agent, st inventory.OCSAgent) string {
	if st.AskedSubnetID == 0 || st.AskedAt.IsZero() || !st.LastInventory.Before(st.AskedAt) {
		return ""
	}
	failure := fmt.Sprintf("asked to sweep %s at %s; no inventory followed", st.AskedCIDR,
		st.AskedAt.UTC().Format(time.RFC3339))
	if err := s.reportScanOutcome(ctx, a.ID, st.AskedSubnetID, failure); err != nil {
		// The contact still counts, and the note still says it.
		s.log.Warn("ocs: report scan outcome", "agent", a.UID, "subnet", st.AskedCIDR, "err", err)
	}
	return failure
}

// ocsSubnetToAsk picks, among the subnets the election gave the agent,
// the one to name in its IPDISCOVER option: an agent sweeps one IPv4
// network per run, and the Unix agent always sweeps the network of its
// default-route interface, so the subnet holding its gateway gw (invalid
// when unknown) comes first.
func (s *Server) ocsSubnetToAsk(ctx context.Context, agentID int64, gw netip.Addr) (*inventory.Subnet, error) {
	ids, err := s.electedSubnets(ctx, agentID)
	if err != nil {
		return nil, fmt.Errorf("subnets elected for agent %d: %w", agentID, err)
	}
	var pick *inventory.Subnet
	for _, id := range ids {
		sn, err := s.store.Subnet(ctx, id)
		if errors.Is(err, inventory.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		p, err := netip.ParsePrefix(sn.CIDR)
		if err != nil || !p.Addr().Is4() || sn.Policy == inventory.ScanDeny {
			continue
		}
		if gw.IsValid() && p.Contains(gw) {
			return &sn, nil
		}
		if pick == nil {
			pick = &sn
		}
	}
	return pick, nil
}

// ocsInventory stores the machine, then what its discovery found.
func (s *Server) ocsInventory(ctx context.Context, req *ocs.Request, host, userAgent string, ua ocs.UserAgent) (ocs.Reply, error) {
	if a, err := s.store.AgentByUID(ctx, req.DeviceID); err == nil && a.Kind != inventory.AgentOCS {
		// A DEVICEID naming one of our own agents would rewrite its
		// machine and NICs, and so where it is elected.
		return ocs.Reply{}, fmt.Errorf("%w: DEVICEID %q is a %s agent, not an OCS one", inventory.ErrInvalid, a.UID, a.Kind)
	} else if err == nil && a.Revoked {
		// A revoked agent changes nothing: neither its machine nor any
		// subnet's devices.
		s.log.Warn("ocs: inventory of a revoked agent ignored", "agent", a.UID)
		err := s.store.RecordOCSInventory(ctx, inventory.OCSInventory{AgentID: a.ID, UserAgent: userAgent,
			Note: "revoked: its inventory and IpDiscover results were ignored"})
		return ocs.Reply{Response: ocs.NoAccountUpdate}, err
	} else if err != nil && !errors.Is(err, inventory.ErrNotFound) {
		return ocs.Reply{}, err
	}
	inv := ocsAgentInventory(req, host, ua)
	a, err := s.store.RecordAgentInventory(ctx, inv)
	if errors.Is(err, inventory.ErrUIDTaken) {
		// The store's own refusal, for a UID enrolled as ours since the
		// look-up above: the same answer.
		return ocs.Reply{}, fmt.Errorf("%w: DEVICEID %q belongs to an agent that is not an OCS one", inventory.ErrInvalid, req.DeviceID)
	}
	if err != nil {
		return ocs.Reply{}, err
	}
	rec, err := s.ocsDiscovery(ctx, a, req.Content)
	if err != nil {
		return ocs.Reply{}, err
	}
	rec.UserAgent = userAgent
	if gw, err := netip.ParseAddr(strings.TrimSpace(req.Content.Hardware.DefaultGateway)); err == nil {
		rec.Gateway = gw.Unmap().String()
	}
	if err := s.store.RecordOCSInventory(ctx, rec); err != nil {
		return ocs.Reply{}, err
	}
	// Its interfaces may have moved it to other subnets: OCS makes an
	// agent a candidate after an inventory, not only after a contact.
	if err := s.reelect(ctx, "ocs inventory"); err != nil {
		s.log.Warn("ocs: re-election after an inventory failed", "agent", a.UID, "err", err)
	}
	return ocs.Reply{Response: ocs.NoAccountUpdate}, nil
}

// ocsAgentInventory maps an OCS inventory onto an agent machine.
func ocsAgentInventory(req *ocs.Request, host string, ua ocs.UserAgent) inventory.AgentInventory {
	c := req.Content
	first := func(vs ...string) string {
		for _, v := range vs {
			if v = strings.TrimSpace(v); v != "" {
				return v
			}
		}
		return ""
	}
	inv := inventory.AgentInventory{
		UID:          req.DeviceID,
		Kind:         inventory.AgentOCS,
		Hostname:     first(c.Hardware.Name, host),
		OSName:       first(c.Hardware.OSName),
		OSVersion:    first(c.Hardware.OSVersion),
		Manufacturer: first(c.BIOS.SManufacturer, c.BIOS.MManufacturer),
		Model:        first(c.BIOS.SModel, c.BIOS.MModel),
		Serial:       first(c.BIOS.SSN, c.BIOS.MSN),
		UUID:         first(c.Hardware.UUID),
		Version:      ua.Version,
		NICs:         ocsNICs(c.Networks),
		Raw:          c.Raw,
	}
	return inv
}

// ocsNICs turns NETWORKS sections, one per address, into interfaces with
// their addresses. Loopback and unusable addresses are left out.
func ocsNICs(nets []ocs.Network) []inventory.NIC {
	var out []inventory.NIC
	index := map[string]int{}
	for _, n := range nets {
		name, mac := strings.TrimSpace(n.Description), strings.ToLower(strings.TrimSpace(n.MACAddr))
		if name == "lo" {
			continue
		}
		if hw, err := net.ParseMAC(mac); err == nil {
			mac = hw.String()
		} else {
			mac = ""
		}
		key := name + "|" + mac
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, inventory.NIC{Name: name, MAC: mac, Kind: ocsNICKind(n),
				State: strings.ToLower(strings.TrimSpace(n.Status)), Addresses: []string{}})
		}
		p, ok := n.Prefix()
		if !ok || p.Addr().IsLoopback() || p.Addr().IsUnspecified() {
			continue
		}
		if a := p.String(); !slices.Contains(out[i].Addresses, a) {
			out[i].Addresses = append(out[i].Addresses, a)
		}
	}
	return out
}

func ocsNICKind(n ocs.Network) inventory.NICKind {
	t := strings.ToLower(n.Type + " " + n.TypeMIB)
	switch {
	case n.VirtualDev == "1":
		return inventory.NICVirtual
	case strings.Contains(t, "wifi"), strings.Contains(t, "wireless"), strings.Contains(t, "802.11"), strings.Contains(t, "80211"):
		return inventory.NICWireless
	case strings.Contains(t, "ethernet"):
		return inventory.NICWired
	}
	return inventory.NICUnknown
}

// ocsDiscovery records an inventory's IPDISCOVER results as scans of the
// subnets holding them, by that agent, and tells the election how the
// scan it asked for went.
func (s *Server) ocsDiscovery(ctx context.Context, a inventory.Agent, c *ocs.Content) (inventory.OCSInventory, error) {
	rec := inventory.OCSInventory{AgentID: a.ID}
	state, err := s.store.OCSAgent(ctx, a.ID)
	if err != nil && !errors.Is(err, inventory.ErrNotFound) {
		return rec, err
	}
	asked, askedCIDR := state.AskedSubnetID, state.AskedCIDR
	var notes []string
	outcome := func(failure string) {
		if asked == 0 {
			return
		}
		if err := s.reportScanOutcome(ctx, a.ID, asked, failure); err != nil {
			s.log.Warn("ocs: report scan outcome", "agent", a.UID, "subnet", askedCIDR, "err", err)
		}
	}
	subnets, err := s.store.Subnets(ctx)
	if err != nil {
		return rec, err
	}
	// The subnets it holds a seat for now, beside the one it was asked:
	// it can sweep only one per run, and says so below.
	elected, err := s.electedSubnets(ctx, a.ID)
	if err != nil {
		s.log.Warn("ocs: subnets elected for agent", "agent", a.UID, "err", err)
	}
	others := func(recorded map[int64]bool) {
		for _, id := range elected {
			if id == asked {
				continue
			}
			if recorded[id] {
				if err := s.reportScanOutcome(ctx, a.ID, id, ""); err != nil {
					s.log.Warn("ocs: report scan outcome", "agent", a.UID, "subnet_id", id, "err", err)
				}
				continue
			}
			for _, sn := range subnets {
				if sn.ID == id {
					notes = append(notes, fmt.Sprintf("also elected for %s, which it was not asked to sweep: an OCS agent sweeps one network per run", sn.CIDR))
				}
			}
		}
	}
	if !c.HasIPDiscover || len(c.IPDiscover) == 0 {
		if asked != 0 {
			msg := fmt.Sprintf("elected for %s but reported no IpDiscover results", askedCIDR)
			outcome(msg)
			notes = append(notes, msg+" (the Unix agent needs root to sweep)")
		}
		others(nil)
		rec.Note = strings.Join(notes, "; ")
		return rec, nil
	}
	rec.Discovered = true

	type group struct {
		sn      inventory.Subnet
		prefix  netip.Prefix
		devices []scan.Device
	}
	groups := map[int64]*group{}
	var order []int64
	outside := 0
	for _, h := range c.IPDiscover {
		ip, mac, name, err := h.Host()
		if err != nil {
			rec.Ignored++
			continue
		}
		var g *group
		for _, sn := range subnets {
			p, err := netip.ParsePrefix(sn.CIDR)
			if err == nil && p.Contains(ip) {
				if g = groups[sn.ID]; g == nil {
					g = &group{sn: sn, prefix: p}
					groups[sn.ID] = g
					order = append(order, sn.ID)
				}
				break
			}
		}
		if g == nil {
			rec.Ignored++
			outside++
			continue
		}
		d := scan.Device{IP: ip.String(), MAC: mac.String(), MACVendor: oui.Lookup(mac), MACFlags: oui.Flags(mac),
			Hostnames: []string{}, FoundBy: []string{ocsMethod}, Reasons: []string{}}
		if name != "" {
			d.Hostnames = []string{name}
		}
		g.devices = append(g.devices, d)
	}
	if outside > 0 {
		notes = append(notes, fmt.Sprintf("found outside every subnet of lanscout: %d", outside))
	}

	scanner := inventory.Scanner{Kind: inventory.ScannerAgent, ID: a.UID}
	recorded := map[int64]bool{}
	askedDone := false
	var scanned, unrecorded []string
	var unrecordedID int64
	for _, id := range order {
		g := groups[id]
		// What the agent really swept: the network of its interface that
		// holds the addresses (the Unix agent sweeps its default-route
		// interface whatever it was told).
		swept := ocsSweptNetwork(a.NICs, g.devices)
		if !swept.IsValid() {
			swept = g.prefix
		}
		// Only the subnets it was asked for or holds a seat for: any OCS
		// client could otherwise rewrite any subnet, and mark its
		// devices gone.
		if id != asked && !slices.Contains(elected, id) {
			rec.Ignored += len(g.devices)
			notes = append(notes, fmt.Sprintf("%d results in %s ignored: it was neither asked nor elected to sweep it", len(g.devices), g.sn.CIDR))
			unrecorded, unrecordedID = append(unrecorded, swept.Masked().String()), id
			continue
		}
		run, err := s.store.BeginScan(ctx, id, scanner, ocsMethod)
		if errors.Is(err, inventory.ErrInvalid) {
			notes = append(notes, fmt.Sprintf("%d results in %s dropped: %v", len(g.devices), g.sn.CIDR, err))
			rec.Ignored += len(g.devices)
			continue
		}
		if err != nil {
			return rec, err
		}
		ids, err := s.store.RecordDevices(ctx, run.ID, g.devices)
		if err != nil {
			_, _ = s.store.FinishScan(context.WithoutCancel(ctx), run.ID, inventory.ScanEnd{Incomplete: true, Error: err.Error()})
			return rec, err
		}
		end := inventory.ScanEnd{Stats: inventory.ScanStats{Addresses: ocsAddresses(swept), Responders: len(ids), SweepPasses: 1}}
		// Only a sweep covering the whole subnet may count misses: a /24
		// swept inside a /16 says nothing of the other addresses.
		switch {
		case swept.Bits() > g.prefix.Bits() || !swept.Contains(g.prefix.Addr()):
			end.Incomplete = true
			end.Warnings = append(end.Warnings, fmt.Sprintf("the agent swept only %s of %s", swept.Masked(), g.sn.CIDR))
		case id != asked:
			// Misses count only on the sweep it was asked for: results it
			// volunteered may be partial, or made up.
			end.Incomplete = true
			end.Warnings = append(end.Warnings, fmt.Sprintf("the agent was not asked to sweep %s this run", g.sn.CIDR))
		}
		if _, err := s.store.FinishScan(ctx, run.ID, end); err != nil {
			return rec, err
		}
		rec.Hosts += len(ids)
		rec.ScanID, rec.ScannedSubnetID = run.ID, id
		recorded[id] = true
		scanned = append(scanned, swept.Masked().String())
		if id == asked {
			askedDone = true
			if swept.Masked().String() != askedCIDR {
				notes = append(notes, fmt.Sprintf("asked to sweep %s, it swept %s (its own interface's network)", askedCIDR, swept.Masked()))
			}
		}
	}
	rec.ScannedCIDR = strings.Join(scanned, ", ")
	if len(scanned) == 0 && len(unrecorded) > 0 {
		// Not recorded, but what it swept is still worth showing.
		rec.ScannedCIDR, rec.ScannedSubnetID = strings.Join(unrecorded, ", "), unrecordedID
	}
	switch {
	case asked == 0:
		notes = append(notes, "sent IpDiscover results without being asked")
	case askedDone:
		outcome("")
	default:
		what := rec.ScannedCIDR
		if what == "" {
			what = "no subnet of lanscout"
		}
		msg := fmt.Sprintf("elected for %s but its IpDiscover results were for %s", askedCIDR, what)
		outcome(msg)
		notes = append([]string{msg + " (the Unix agent sweeps its default-route interface)"}, notes...)
	}
	others(recorded)
	rec.Note = strings.Join(notes, "; ")
	return rec, nil
}

// ocsSweptNetwork returns the network of the agent's interface that holds
// the most of the found addresses, or the zero prefix when none does.
func ocsSweptNetwork(nics []inventory.NIC, devs []scan.Device) netip.Prefix {
	var best netip.Prefix
	bestN := 0
	for _, n := range nics {
		for _, a := range n.Addresses {
			p, err := netip.ParsePrefix(a)
			if err != nil || !p.Addr().Is4() {
				continue
			}
			p = p.Masked()
			cnt := 0
			for _, d := range devs {
				if ip, err := netip.ParseAddr(d.IP); err == nil && p.Contains(ip) {
					cnt++
				}
			}
			if cnt > bestN {
				best, bestN = p, cnt
			}
		}
	}
	return best
}

// ocsAddresses is the number of host addresses of an IPv4 network.
func ocsAddresses(p netip.Prefix) int {
	if !p.Addr().Is4() {
		return 0
	}
	n := 1 << (32 - p.Bits())
	if p.Bits() <= 30 {
		n -= 2
	}
	return n
}

// ocsPageData is the /ocs page: how agents reach the endpoint and what
// each OCS agent was asked and did.
type ocsPageData struct {
	Enabled    bool
	Host       string // as the browser reached the server: agents may use the same name
	Path       string
	Auth       bool
	PrologFreq int
	Latency    int
	Agents     []inventory.OCSAgent
	Notes      int
}

func (s *Server) ocsPage(c *gin.Context) {
	agents, err := s.store.OCSAgents(c.Request.Context())
	if err != nil {
		s.log.Error("ocs page", "err", err)
		s.renderStatus(c, http.StatusInternalServerError, "Something went wrong", "The OCS agents could not be read.")
		return
	}
	o := s.ocs.opts
	d := ocsPageData{Enabled: o.Enabled, Host: c.Request.Host, Path: o.Path, Auth: len(o.Users) > 0, PrologFreq: o.PrologFreq,
		Latency: o.IPDiscoverLatency, Agents: agents}
	for _, a := range agents {
		if a.Note != "" {
			d.Notes++
		}
	}
	s.render(c, http.StatusOK, "ocs.html", d)
}

func (s *Server) apiOCSAgents(c *gin.Context) {
	agents, err := s.store.OCSAgents(c.Request.Context())
	if err != nil {
		s.log.Error("list OCS agents", "err", err)
		apiError(c, http.StatusInternalServerError, "internal error")
		return
	}
	c.JSON(http.StatusOK, gin.H{"agents": agents})
}
