package snmp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gosnmp/gosnmp"
)

// Session defaults.
const (
	DefaultTimeout        = time.Second
	DefaultRetries        = 1
	DefaultMaxRepetitions = 10
	// MaxMaxRepetitions caps GETBULK max-repetitions: snmpsim 0.4.5 hangs
	// above 64 values per response, and real agents gain nothing beyond it.
	MaxMaxRepetitions = 64
	// getChunk bounds the OIDs per GET: old agents answer tooBig to long
	// variable lists.
	getChunk = 16
)

// ErrAuthFailed marks a v3 agent rejecting the credential (unknown user,
// wrong digest, decryption error, unsupported security level). Such an
// agent answers, so this is never ErrUnreachable.
var ErrAuthFailed = errors.New("authentication failed")

// errPortClosed marks an ICMP port unreachable (seen as "connection
// refused" on a connected UDP socket): nothing listens, whatever the
// credential.
var errPortClosed = errors.New("port closed (ICMP port unreachable)")

// SessionOptions tune a Session. Zero values mean the defaults.
type SessionOptions struct {
	// Timeout is per attempt (default 1s).
	Timeout time.Duration
	// Retries is how many times a request is resent after a timeout:
	// 0 means the default (1); a negative number means none.
	Retries int
	// MaxRepetitions is the starting GETBULK max-repetitions (default 10,
	// at most 64). The session halves it on tooBig or a timeout and keeps
	// the lower value for the rest of its life.
	MaxRepetitions int
	// Logger, when set and enabled at debug level, receives gosnmp's packet
	// log with communities masked.
	Logger *slog.Logger
}

// Session is a live Source: one agent reached with one credential. It is
// not safe for concurrent use (gosnmp shares one receive buffer and
// request-ID state per connection); open one Session per target.
type Session struct {
	g       *gosnmp.GoSNMP
	conn    net.Conn
	addr    netip.AddrPort
	version Version
	maxReps int
	log     *slog.Logger

	privChecked bool
	answered    bool // some authPriv request has been answered

	closeOnce sync.Once
	closeErr  error
}

// Dial prepares a Session for target. It sends nothing: UDP needs no
// handshake, and v3 engine discovery happens on the first request. The
// context only bounds the set-up.
func Dial(ctx context.Context, target netip.AddrPort, cred Credential, opts SessionOptions) (*Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := cred.Validate(); err != nil {
		return nil, fmt.Errorf("snmp dial %s: %w", target, err)
	}
	if !target.IsValid() || target.Port() == 0 {
		return nil, fmt.Errorf("snmp dial %s: invalid address or port", target)
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	retries := opts.Retries
	switch {
	case retries == 0:
		retries = DefaultRetries
	case retries < 0:
		retries = 0
	}
	reps := opts.MaxRepetitions
	if reps <= 0 {
		reps = DefaultMaxRepetitions
	}
	reps = min(reps, MaxMaxRepetitions)
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	addr := target.Addr().Unmap()
	g := &gosnmp.GoSNMP{
		Target:             addr.String(),
		Port:               target.Port(),
		Transport:          "udp",
		Timeout:            timeout,
		Retries:            retries,
		ExponentialTimeout: false,
		MaxOids:            getChunk,
		MaxRepetitions:     uint32(reps),
		Context:            ctx,
	}
	var secrets []string
	switch cred.Version {
	case V1:
		g.Version, g.Community = gosnmp.Version1, string(cred.Community)
		secrets = append(secrets, string(cred.Community))
	case V2c:
		g.Version, g.Community = gosnmp.Version2c, string(cred.Community)
		secrets = append(secrets, string(cred.Community))
	case V3:
		g.Version, g.SecurityModel = gosnmp.Version3, gosnmp.UserSecurityModel
		g.ContextName = cred.Context
		// A fresh struct per session: gosnmp stores the agent's engine ID,
		// boots and time into it.
		usm := &gosnmp.UsmSecurityParameters{
			UserName:                 cred.User,
			AuthenticationProtocol:   gosnmpAuth(cred.Auth),
			AuthenticationPassphrase: string(cred.AuthPass),
			PrivacyProtocol:          gosnmpPriv(cred.Priv),
			PrivacyPassphrase:        string(cred.PrivPass),
		}
		switch cred.SecurityLevel() {
		case "noAuthNoPriv":
			g.MsgFlags = gosnmp.NoAuthNoPriv
		case "authNoPriv":
			g.MsgFlags = gosnmp.AuthNoPriv
		default:
			g.MsgFlags = gosnmp.AuthPriv
		}
		g.SecurityParameters = usm
		secrets = append(secrets, string(cred.AuthPass), string(cred.PrivPass))
	}
	if log.Enabled(ctx, slog.LevelDebug) {
		bridge := &logBridge{log: log.With("agent", target.String()), secrets: secrets}
		g.Logger = gosnmp.NewLogger(bridge)
		if usm, ok := g.SecurityParameters.(*gosnmp.UsmSecurityParameters); ok {
			usm.Logger = g.Logger
		}
	}
	if err := g.Connect(); err != nil {
		return nil, fmt.Errorf("snmp dial %s: %w", target, err)
	}
	return &Session{g: g, conn: g.Conn, addr: netip.AddrPortFrom(addr, target.Port()),
		version: cred.Version, maxReps: reps, log: log}, nil
}

func gosnmpAuth(a AuthProto) gosnmp.SnmpV3AuthProtocol {
	switch a {
	case MD5:
		return gosnmp.MD5
	case SHA:
		return gosnmp.SHA
	case SHA224:
		return gosnmp.SHA224
	case SHA256:
		return gosnmp.SHA256
	case SHA384:
		return gosnmp.SHA384
	case SHA512:
		return gosnmp.SHA512
	}
	return gosnmp.NoAuth
}

func gosnmpPriv(p PrivProto) gosnmp.SnmpV3PrivProtocol {
	switch p {
	case DES:
		return gosnmp.DES
	case AES:
		return gosnmp.AES
	case AES192:
		return gosnmp.AES192
	case AES256:
		return gosnmp.AES256
	case AES192C:
		return gosnmp.AES192C
	case AES256C:
		return gosnmp.AES256C
	}
	return gosnmp.NoPriv
}

// Addr returns the agent's address.
func (s *Session) Addr() netip.AddrPort { return s.addr }

// Version returns the SNMP version in use.
func (s *Session) Version() Version { return s.version }

// MaxRepetitions returns the GETBULK max-repetitions the session has
// settled on so far.
func (s *Session) MaxRepetitions() int { return s.maxReps }

// Close releases the socket. It is safe to call more than once and from
// another goroutine, which aborts a request in flight.
func (s *Session) Close() error {
	// Close the socket rather than calling gosnmp's Close, which sets its
	// Conn to nil under a request in flight; that request then panics
	// inside gosnmp and returns the recovered stack as its error. A closed
	// socket instead fails the request with net.ErrClosed.
	s.closeOnce.Do(func() { s.closeErr = s.conn.Close() })
	return s.closeErr
}

// begin binds gosnmp to ctx for one call. gosnmp only checks its context
// between attempts, so cancellation also expires the socket deadline to
// end a read in progress at once.
func (s *Session) begin(ctx context.Context) (end func()) {
	s.g.Context = ctx
	stop := context.AfterFunc(ctx, func() { s.conn.SetDeadline(time.Now()) })
	return func() { stop() }
}

// Get implements Source. OIDs the agent lacks come back as NoSuchObject or
// NoSuchInstance; a v1 agent's noSuchName (or any error status naming one
// variable) marks that variable NoSuchObject and the rest are asked again,
// so one missing OID does not hide the others.
func (s *Session) Get(ctx context.Context, oids []string) ([]Var, error) {
	names := make([]string, len(oids))
	for i, o := range oids {
		n, err := NormalizeOID(o)
		if err != nil {
			return nil, fmt.Errorf("snmp get %s: %w", s.addr, err)
		}
		names[i] = n
	}
	defer s.begin(ctx)()
	out := make([]Var, len(names))
	for start := 0; start < len(names); start += getChunk {
		end := min(start+getChunk, len(names))
		if err := s.getChunk(ctx, names[start:end], out[start:end]); err != nil {
			return nil, s.fail(ctx, "get", err)
		}
	}
	return out, nil
}

func (s *Session) getChunk(ctx context.Context, names []string, out []Var) error {
	pending := make([]int, len(names))
	for i := range pending {
		pending[i] = i
	}
	for len(pending) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		req := make([]string, len(pending))
		for i, p := range pending {
			req[i] = "." + names[p]
		}
		pkt, err := s.g.Get(req)
		if err != nil {
			return err
		}
		s.answered = true
		switch {
		case pkt.Error == gosnmp.NoError:
			if len(pkt.Variables) != len(pending) {
				return fmt.Errorf("asked for %d variables, got %d", len(pending), len(pkt.Variables))
			}
			for i, p := range pending {
				v := toVar(pkt.Variables[i])
				v.Name = names[p]
				out[p] = v
			}
			return nil
		case pkt.Error == gosnmp.TooBig && len(pending) > 1:
			half := len(pending) / 2
			for _, part := range [][]int{pending[:half], pending[half:]} {
				sub := make([]string, len(part))
				subOut := make([]Var, len(part))
				for i, p := range part {
					sub[i] = names[p]
				}
				if err := s.getChunk(ctx, sub, subOut); err != nil {
					return err
				}
				for i, p := range part {
					out[p] = subOut[i]
				}
			}
			return nil
		case pkt.ErrorIndex >= 1 && int(pkt.ErrorIndex) <= len(pending):
			bad := pending[pkt.ErrorIndex-1]
			out[bad] = Var{Name: names[bad], Kind: NoSuchObject}
			pending = append(pending[:pkt.ErrorIndex-1:pkt.ErrorIndex-1], pending[pkt.ErrorIndex:]...)
		default:
			return fmt.Errorf("agent answered %s", pkt.Error)
		}
	}
	return nil
}

// maxTimeoutBackoffs is how many timed-out GETBULKs in a row a walk
// retries with fewer repetitions before it calls the agent unreachable.
// A response too big for the path fails as a timeout, but so does a dead
// agent; two more tries separate them at a bounded cost.
const maxTimeoutBackoffs = 2

// Walk implements Source with GETNEXT for v1 and GETBULK (one OID per
// request) for v2c/v3. It guards against agents that return OIDs out of
// order: a variable not beyond the previous one is skipped, and a response
// that makes no progress at all ends the walk with an error instead of
// looping. Error statuses end the walk with an error (gosnmp would end
// silently), except tooBig, which lowers max-repetitions and retries.
func (s *Session) Walk(ctx context.Context, root string, max int, fn func(Var) error) error {
	root, err := NormalizeOID(root)
	if err != nil {
		return fmt.Errorf("snmp walk %s: %w", s.addr, err)
	}
	defer s.begin(ctx)()
	if err := s.walk(ctx, root, max, fn); err != nil {
		var stop stopError
		if errors.As(err, &stop) {
			return stop.err
		}
		return s.fail(ctx, "walk "+root, err)
	}
	return nil
}

// stopError carries the callback's own error so Walk returns it unchanged.
type stopError struct{ err error }

func (e stopError) Error() string { return e.err.Error() }
func (e stopError) Unwrap() error { return e.err }

func (s *Session) walk(ctx context.Context, root string, max int, fn func(Var) error) error {
	cursor := root
	rows, requests, timeouts := 0, 0, 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var (
			pkt  *gosnmp.SnmpPacket
			err  error
			reps = s.maxReps
		)
		if max > 0 {
			reps = min(reps, max-rows)
		}
		requests++
		if s.version == V1 {
			pkt, err = s.g.GetNext([]string{"." + cursor})
		} else {
			pkt, err = s.g.GetBulk([]string{"." + cursor}, 0, uint32(reps))
		}
		if err != nil {
			if s.version != V1 && isTimeout(err) && ctx.Err() == nil && timeouts < maxTimeoutBackoffs && s.backoff() {
				timeouts++
				s.log.Debug("snmp walk timed out; fewer repetitions", "agent", s.addr, "oid", cursor, "max_repetitions", s.maxReps)
				continue
			}
			return err
		}
		s.answered = true
		timeouts = 0
		switch pkt.Error {
		case gosnmp.NoError:
		case gosnmp.NoSuchName:
			if s.version == V1 {
				// v1 agents say noSuchName past the end of their MIB.
				return s.leafFallback(ctx, root, rows, requests, fn)
			}
			return fmt.Errorf("agent answered %s after %s", pkt.Error, cursor)
		case gosnmp.TooBig:
			if s.version != V1 && s.backoff() {
				s.log.Debug("snmp walk tooBig; fewer repetitions", "agent", s.addr, "oid", cursor, "max_repetitions", s.maxReps)
				continue
			}
			return fmt.Errorf("agent answered tooBig after %s even for one variable", cursor)
		default:
			return fmt.Errorf("agent answered %s after %s", pkt.Error, cursor)
		}
		if len(pkt.Variables) == 0 {
			return nil
		}
		progressed := false
		for _, pdu := range pkt.Variables {
			v := toVar(pdu)
			if !v.Exists() || !HasPrefix(v.Name, root) {
				return s.leafFallback(ctx, root, rows, requests, fn)
			}
			if CompareOID(v.Name, cursor) <= 0 {
				continue
			}
			cursor, progressed = v.Name, true
			if err := fn(v); err != nil {
				return stopError{err}
			}
			rows++
			if max > 0 && rows >= max {
				return nil
			}
		}
		if !progressed {
			return fmt.Errorf("OIDs not increasing after %s", cursor)
		}
	}
}

// leafFallback ends a walk. When the very first request found nothing
// under root, root may name a scalar instance (walking sysDescr.0), which
// net-snmp and Recording.Walk both return, so it is fetched with a GET.
func (s *Session) leafFallback(ctx context.Context, root string, rows, requests int, fn func(Var) error) error {
	if rows > 0 || requests > 1 {
		return nil
	}
	vars := make([]Var, 1)
	if err := s.getChunk(ctx, []string{root}, vars); err != nil {
		return err
	}
	if vars[0].Exists() {
		if err := fn(vars[0]); err != nil {
			return stopError{err}
		}
	}
	return nil
}

// backoff lowers max-repetitions (10 → 5 → 2 → 1) and reports whether
// there was room to.
func (s *Session) backoff() bool {
	if s.maxReps <= 1 {
		return false
	}
	s.maxReps = max(1, s.maxReps/2)
	return true
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, gosnmp.ErrMaxRetriesExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// classify marks errors that mean the agent does not answer with
// ErrUnreachable and v3 rejections with ErrAuthFailed.
func (s *Session) classify(err error) error {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w: %w", ErrUnreachable, errPortClosed)
	case errors.Is(err, net.ErrClosed):
		return fmt.Errorf("%w: session closed", ErrUnreachable)
	case isTimeout(err):
		return fmt.Errorf("%w: no response within %s × %d attempts", ErrUnreachable, s.g.Timeout, s.g.Retries+1)
	case errors.Is(err, gosnmp.ErrUnknownUsername):
		return fmt.Errorf("%w: unknown user name", ErrAuthFailed)
	case errors.Is(err, gosnmp.ErrWrongDigest):
		return fmt.Errorf("%w: wrong digest (wrong auth password or protocol)", ErrAuthFailed)
	case errors.Is(err, gosnmp.ErrDecryption):
		return fmt.Errorf("%w: decryption error (wrong privacy password or protocol)", ErrAuthFailed)
	case errors.Is(err, gosnmp.ErrUnknownSecurityLevel):
		return fmt.Errorf("%w: security level not supported for this user", ErrAuthFailed)
	case errors.Is(err, gosnmp.ErrNotInTimeWindow), errors.Is(err, gosnmp.ErrUnknownEngineID):
		return fmt.Errorf("%w: %v", ErrAuthFailed, err)
	case s.version == V3 && isV3DecodeError(err):
		// The agent's reply could not be authenticated or decrypted with
		// our keys: it accepted the request, so ours are not the user's.
		return fmt.Errorf("%w: agent rejected the user or auth password (%v)", ErrAuthFailed, err)
	}
	return err
}

func isV3DecodeError(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "decrypt") || strings.Contains(msg, "authentic") || strings.Contains(msg, "digest")
}

func (s *Session) wrap(op string, err error) error {
	return fmt.Errorf("snmp %s %s: %w", op, s.addr, s.classify(err))
}

// wrongPrivacy tells a wrong privacy pass phrase from a dead agent after
// an authPriv request timed out. Agents drop packets they cannot decrypt
// without a word (the hang GLPI users hit), but if the agent answered the
// engine discovery and now answers the same user at authNoPriv (even with
// authorizationError), it is alive and our auth key is right, so the
// privacy pass phrase or protocol must be wrong. One extra request, only
// on this path; checked once per session.
func (s *Session) wrongPrivacy(ctx context.Context, err error) bool {
	// Once one encrypted request was answered, the privacy key is right and
	// a timeout means the agent went away.
	if s.version != V3 || s.g.MsgFlags&gosnmp.AuthPriv != gosnmp.AuthPriv || !isTimeout(err) || ctx.Err() != nil || s.privChecked || s.answered {
		return false
	}
	s.privChecked = true
	usm, ok := s.g.SecurityParameters.(*gosnmp.UsmSecurityParameters)
	if !ok || usm.AuthoritativeEngineID == "" {
		return false // discovery never answered: the agent is away
	}
	g := &gosnmp.GoSNMP{
		Target: s.g.Target, Port: s.g.Port, Transport: "udp", Version: gosnmp.Version3,
		Timeout: s.g.Timeout, Retries: 0, Context: ctx, MaxOids: 1,
		SecurityModel: gosnmp.UserSecurityModel, MsgFlags: gosnmp.AuthNoPriv, ContextName: s.g.ContextName,
		SecurityParameters: &gosnmp.UsmSecurityParameters{
			UserName:                 usm.UserName,
			AuthenticationProtocol:   usm.AuthenticationProtocol,
			AuthenticationPassphrase: usm.AuthenticationPassphrase,
		},
	}
	if g.Connect() != nil {
		return false
	}
	defer g.Close()
	_, perr := g.Get([]string{".1.3.6.1.2.1.1.3.0"})
	s.log.Debug("snmp authNoPriv check after authPriv timeout", "agent", s.addr, "err", perr)
	return perr == nil
}

// fail wraps a request error, first checking whether a v3 timeout is
// really a wrong privacy pass phrase.
func (s *Session) fail(ctx context.Context, op string, err error) error {
	if s.wrongPrivacy(ctx, err) {
		return fmt.Errorf("snmp %s %s: %w: agent ignores our encrypted requests but accepts the user at authNoPriv (wrong privacy password or protocol)", op, s.addr, ErrAuthFailed)
	}
	if s.version == V3 && s.g.MsgFlags&gosnmp.AuthNoPriv != 0 && !s.answered && isV3DecodeError(err) && ctx.Err() == nil {
		switch s.userKnown(ctx) {
		case userUnknown:
			return fmt.Errorf("snmp %s %s: %w: unknown user %q", op, s.addr, ErrAuthFailed, s.user())
		case userKnown:
			return fmt.Errorf("snmp %s %s: %w: wrong auth password or protocol for user %q", op, s.addr, ErrAuthFailed, s.user())
		}
	}
	return s.wrap(op, err)
}

func (s *Session) user() string {
	if usm, ok := s.g.SecurityParameters.(*gosnmp.UsmSecurityParameters); ok {
		return usm.UserName
	}
	return ""
}

type userCheck int

const (
	userUndecided userCheck = iota
	userUnknown
	userKnown
)

// userKnown tells an unknown user from a wrong auth key. Once the engine
// ID is known, gosnmp discards the agent's unauthenticated report (the
// only thing saying which it was) as "not authentic". Asked at
// noAuthNoPriv, an agent answers usmStatsUnknownUserNames for a user it
// lacks, and usmStatsUnsupportedSecLevels (or data) for one it has. One
// extra round trip, only after a rejection.
func (s *Session) userKnown(ctx context.Context) userCheck {
	g := &gosnmp.GoSNMP{
		Target: s.g.Target, Port: s.g.Port, Transport: "udp", Version: gosnmp.Version3,
		Timeout: s.g.Timeout, Retries: 0, Context: ctx, MaxOids: 1,
		SecurityModel: gosnmp.UserSecurityModel, MsgFlags: gosnmp.NoAuthNoPriv, ContextName: s.g.ContextName,
		SecurityParameters: &gosnmp.UsmSecurityParameters{UserName: s.user()},
	}
	if g.Connect() != nil {
		return userUndecided
	}
	defer g.Close()
	_, err := g.Get([]string{".1.3.6.1.2.1.1.3.0"})
	s.log.Debug("snmp noAuthNoPriv check after a rejection", "agent", s.addr, "err", err)
	switch {
	case errors.Is(err, gosnmp.ErrUnknownUsername):
		return userUnknown
	case err == nil, errors.Is(err, gosnmp.ErrUnknownSecurityLevel):
		return userKnown
	}
	return userUndecided
}

// toVar converts a gosnmp variable; gosnmp's Go types vary by BER type.
func toVar(p gosnmp.SnmpPDU) Var {
	v := Var{Name: strings.TrimPrefix(p.Name, "."), Kind: Kind(p.Type)}
	switch p.Type {
	case gosnmp.Integer:
		v.Int = gosnmp.ToBigInt(p.Value).Int64()
	case gosnmp.Counter32, gosnmp.Gauge32, gosnmp.TimeTicks, gosnmp.Counter64, gosnmp.Uinteger32:
		v.Kind = Kind(p.Type)
		if p.Type == gosnmp.Uinteger32 {
			v.Kind = Gauge32
		}
		v.Uint = gosnmp.ToBigInt(p.Value).Uint64()
	case gosnmp.OctetString, gosnmp.BitString:
		v.Kind = OctetString
		b, _ := p.Value.([]byte)
		v.Bytes = append([]byte{}, b...)
	case gosnmp.Opaque, gosnmp.OpaqueFloat, gosnmp.OpaqueDouble:
		v.Kind = Opaque
		switch x := p.Value.(type) {
		case []byte:
			v.Bytes = append([]byte{}, x...)
		default:
			v.Bytes = []byte(fmt.Sprint(x))
		}
	case gosnmp.IPAddress:
		if s, ok := p.Value.(string); ok {
			if a, err := netip.ParseAddr(s); err == nil {
				v.Bytes = a.AsSlice()
			}
		}
	case gosnmp.ObjectIdentifier:
		s, _ := p.Value.(string)
		v.OID = strings.TrimPrefix(s, ".")
	case gosnmp.Null, gosnmp.NoSuchObject, gosnmp.NoSuchInstance, gosnmp.EndOfMibView:
	default:
		// Types lanscout does not model are kept as their text.
		v.Kind = OctetString
		v.Bytes = []byte(fmt.Sprint(p.Value))
	}
	return v
}

// logBridge feeds gosnmp's printf-style debug log to slog. gosnmp logs
// whole packets, communities included, so known secrets are masked.
type logBridge struct {
	log     *slog.Logger
	secrets []string
}

func (b *logBridge) Print(v ...any) { b.emit(fmt.Sprint(v...)) }
func (b *logBridge) Printf(format string, v ...any) {
	b.emit(fmt.Sprintf(format, v...))
}

func (b *logBridge) emit(msg string) {
	for _, s := range b.secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, secretMask)
		}
	}
	b.log.Debug("gosnmp", "msg", msg)
}
