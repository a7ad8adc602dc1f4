package snmp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Memory remembers which credential last worked for an address, so the
// next probe tries it first and alone.
type Memory interface {
	Preferred(addr netip.Addr) (string, bool)
	Remember(addr netip.Addr, credential string)
}

// ProberOptions configure a Prober.
type ProberOptions struct {
	Credentials []Credential // tried in this order; names filled and checked by NewProber
	Port        uint16       // 0 means 161
	Timeout     time.Duration
	Retries     int // as SessionOptions.Retries: 0 means 1, negative means none
	Plan        Plan
	Memory      Memory // optional
	Logger      *slog.Logger
	// MaxRepetitions is the starting GETBULK max-repetitions (see
	// SessionOptions).
	MaxRepetitions int
}

// Prober finds a working credential for a device and gathers its evidence.
type Prober struct {
	creds []Credential
	port  uint16
	opts  SessionOptions
	plan  Plan
	mem   Memory
	log   *slog.Logger
}

// NewProber checks opts and returns a Prober.
func NewProber(opts ProberOptions) (*Prober, error) {
	if len(opts.Credentials) == 0 {
		return nil, errors.New("snmp prober: no credentials")
	}
	creds, err := NormalizeCredentials(opts.Credentials)
	if err != nil {
		return nil, fmt.Errorf("snmp prober: %w", err)
	}
	port := opts.Port
	if port == 0 {
		port = 161
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Prober{
		creds: creds,
		port:  port,
		opts:  SessionOptions{Timeout: opts.Timeout, Retries: opts.Retries, MaxRepetitions: opts.MaxRepetitions, Logger: opts.Logger},
		plan:  opts.Plan,
		mem:   opts.Memory,
		log:   log,
	}, nil
}

// Answer is what Probe learned about one device.
type Answer struct {
	Credential string            `json:"credential,omitempty"` // the name of the credential that worked
	Version    string            `json:"version,omitempty"`    // "1", "2c" or "3"
	Evidence   *Evidence         `json:"-"`
	Tried      []CredentialError `json:"tried,omitempty"` // credentials that failed, in list order
}

// Reason says why a credential failed.
type Reason string

// Reasons. NoAnswer and Refused mean nothing was heard with that
// credential (v1/v2c agents ignore wrong communities, so a wrong community
// and an absent agent look the same); AuthFailed means a v3 agent answered
// and rejected it.
const (
	NoAnswer   Reason = "no answer"
	Refused    Reason = "port closed"
	AuthFailed Reason = "auth failed"
	Failed     Reason = "error"
)

// CredentialError is one credential's failure on one device.
type CredentialError struct {
	Credential string
	Version    string
	Reason     Reason
	Err        error
}

func (e CredentialError) Error() string {
	return fmt.Sprintf("credential %s (v%s): %s: %v", e.Credential, e.Version, e.Reason, e.Err)
}

func (e CredentialError) Unwrap() error { return e.Err }

// MarshalJSON writes the error as text; error values do not marshal.
func (e CredentialError) MarshalJSON() ([]byte, error) {
	msg := ""
	if e.Err != nil {
		msg = e.Err.Error()
	}
	return json.Marshal(struct {
		Credential string `json:"credential"`
		Version    string `json:"version"`
		Reason     Reason `json:"reason"`
		Error      string `json:"error"`
	}{e.Credential, e.Version, e.Reason, msg})
}

// maxParallelCredentials bounds the sockets one probe opens at once.
const maxParallelCredentials = 8

// Probe finds the first credential (in list order) that addr answers and
// gathers the plan's evidence with it. It is safe for concurrent use
// across addresses.
//
// Cost: the credential remembered for addr is tried first and alone, so a
// known device hears no wrong credential. Otherwise the credentials are
// tried concurrently (up to 8 at a time) but resolved in list order: the
// answer is the first credential in the list that works, and an address
// with no agent costs about one timeout × (retries+1) in all rather than
// that per credential. Waiting for every credential ahead of the winner
// keeps list order meaningful (a read-only community listed before a
// read-write one). A closed port (ICMP port unreachable) ends the probe at
// once, since it is closed whatever the credential. A remembered device
// that has gone away costs two timeouts: the remembered credential's, then
// the others'.
//
// When no credential works, the Answer is nil and the error is a
// *ProbeError listing every credential's failure; it wraps ErrAuthFailed
// if some v3 agent rejected a credential, else ErrUnreachable. When the
// device answers but stops mid-way, the Answer holds the partial evidence
// and the error wraps ErrUnreachable.
func (p *Prober) Probe(ctx context.Context, addr netip.Addr) (*Answer, error) {
	sess, ans, err := p.Open(ctx, addr)
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	ev, err := Gather(ctx, sess, p.plan)
	ans.Evidence = ev
	if err != nil {
		return ans, fmt.Errorf("snmp probe %s: %w", addr, err)
	}
	return ans, nil
}

// Open finds the credential as Probe does and returns its open Session
// (the caller closes it) instead of gathering evidence, for callers that
// read the device themselves (lanscout snmp walk). The Answer has no
// Evidence. Errors are as Probe's.
func (p *Prober) Open(ctx context.Context, addr netip.Addr) (*Session, *Answer, error) {
	target := netip.AddrPortFrom(addr.Unmap(), p.port)
	ans := &Answer{}
	var (
		sess   *Session
		winner Credential
	)
	rest := p.creds
	if i := p.preferredIndex(addr); i >= 0 {
		s, cerr := p.try(ctx, target, p.creds[i])
		if cerr == nil {
			sess, winner = s, p.creds[i]
		} else {
			ans.Tried = append(ans.Tried, *cerr)
			if cerr.Reason == Refused || ctx.Err() != nil {
				return nil, nil, p.failure(ctx, addr, ans.Tried)
			}
			rest = append(append([]Credential(nil), p.creds[:i]...), p.creds[i+1:]...)
		}
	}
	if sess == nil {
		var tried []CredentialError
		sess, winner, tried = p.race(ctx, target, rest)
		ans.Tried = append(ans.Tried, tried...)
		if sess == nil {
			return nil, nil, p.failure(ctx, addr, ans.Tried)
		}
	}
	ans.Credential, ans.Version = winner.Name, winner.Version.String()
	if p.mem != nil {
		p.mem.Remember(addr, winner.Name)
	}
	return sess, ans, nil
}

// preferredIndex returns the index of the credential remembered for addr,
// or -1.
func (p *Prober) preferredIndex(addr netip.Addr) int {
	if p.mem == nil {
		return -1
	}
	name, ok := p.mem.Preferred(addr)
	if !ok {
		return -1
	}
	for i, c := range p.creds {
		if c.Name == name {
			return i
		}
	}
	return -1
}

type tryResult struct {
	sess *Session
	cerr *CredentialError
}

// race tries creds concurrently and returns the first in list order that
// works, with the failures of those before it.
func (p *Prober) race(ctx context.Context, target netip.AddrPort, creds []Credential) (*Session, Credential, []CredentialError) {
	if len(creds) == 0 {
		return nil, Credential{}, nil
	}
	raceCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]chan tryResult, len(creds))
	sem := make(chan struct{}, maxParallelCredentials)
	var wg sync.WaitGroup
	for i, c := range creds {
		results[i] = make(chan tryResult, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			s, cerr := p.try(raceCtx, target, c)
			results[i] <- tryResult{s, cerr}
		}()
	}
	var (
		tried  []CredentialError
		sess   *Session
		winner Credential
		done   int
	)
	for i := range creds {
		r := <-results[i]
		done = i + 1
		if r.sess != nil {
			sess, winner = r.sess, creds[i]
			break
		}
		tried = append(tried, *r.cerr)
		if r.cerr.Reason == Refused {
			break
		}
	}
	// The losers stop at once: cancelling expires their socket deadlines.
	cancel()
	wg.Wait()
	for _, ch := range results[done:] {
		if r := <-ch; r.sess != nil {
			r.sess.Close()
		}
	}
	return sess, winner, tried
}

// try opens a session with c and asks for the identity scalars.
func (p *Prober) try(ctx context.Context, target netip.AddrPort, c Credential) (*Session, *CredentialError) {
	cerr := func(err error) *CredentialError {
		e := &CredentialError{Credential: c.Name, Version: c.Version.String(), Reason: Failed, Err: err}
		switch {
		case errors.Is(err, ErrAuthFailed):
			e.Reason = AuthFailed
		case errors.Is(err, errPortClosed):
			e.Reason = Refused
		case errors.Is(err, ErrUnreachable):
			e.Reason = NoAnswer
		}
		return e
	}
	s, err := Dial(ctx, target, c, p.opts)
	if err != nil {
		return nil, cerr(err)
	}
	// sysDescr.0 and sysObjectID.0 answer "does this credential work": every
	// agent has them (GLPI requires sysDescr too), and a response of any
	// kind, even noSuchObject, proves the credential.
	if _, err := s.Get(ctx, []string{"1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0"}); err != nil {
		s.Close()
		p.log.Debug("snmp credential failed", "addr", target, "credential", c.Name, "err", err)
		return nil, cerr(err)
	}
	return s, nil
}

// ProbeError is Probe's error when no credential worked.
type ProbeError struct {
	Addr  netip.Addr
	Tried []CredentialError // every credential's failure, in the order tried
	err   error             // ErrUnreachable, ErrAuthFailed or the context's error
}

func (e *ProbeError) Error() string {
	if errors.Is(e.err, context.Canceled) || errors.Is(e.err, context.DeadlineExceeded) {
		return fmt.Sprintf("snmp probe %s: %v", e.Addr, e.err)
	}
	parts := make([]string, len(e.Tried))
	for i, t := range e.Tried {
		parts[i] = fmt.Sprintf("%s: %s", t.Credential, t.Reason)
		if t.Reason == AuthFailed || t.Reason == Failed {
			parts[i] = fmt.Sprintf("%s: %v", t.Credential, t.Err)
		}
	}
	summary := strings.Join(parts, "; ")
	if errors.Is(e.err, ErrAuthFailed) {
		return fmt.Sprintf("snmp probe %s: no credential accepted (%s)", e.Addr, summary)
	}
	return fmt.Sprintf("snmp probe %s: %v (%s)", e.Addr, e.err, summary)
}

func (e *ProbeError) Unwrap() error { return e.err }

// failure builds the error for when no credential worked.
func (p *Prober) failure(ctx context.Context, addr netip.Addr, tried []CredentialError) error {
	e := &ProbeError{Addr: addr, Tried: tried, err: ErrUnreachable}
	if err := ctx.Err(); err != nil {
		e.err = err
		return e
	}
	for _, t := range tried {
		if t.Reason == AuthFailed {
			e.err = ErrAuthFailed
		}
	}
	return e
}

// MemoryFile is a Memory, safe for concurrent use, kept in memory and
// optionally backed by a JSON file mapping addresses to credential names
// (never secrets), so the CLI remembers across runs.
type MemoryFile struct {
	path string // "" for a memory that is never saved
	mu   sync.Mutex
	m    map[netip.Addr]string
}

var _ Memory = (*MemoryFile)(nil)

// NewMemory returns an empty in-memory MemoryFile with no file behind it.
func NewMemory() *MemoryFile {
	return &MemoryFile{m: map[netip.Addr]string{}}
}

// LoadMemoryFile reads a memory saved by Save, which will write back to
// path. A missing file is an empty memory, so the first run needs no
// set-up.
func LoadMemoryFile(path string) (*MemoryFile, error) {
	m := NewMemory()
	m.path = path
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, fmt.Errorf("credential memory: %w", err)
	}
	var raw map[string]string
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("credential memory %s: %w", path, err)
	}
	for k, v := range raw {
		a, err := netip.ParseAddr(k)
		if err != nil {
			return nil, fmt.Errorf("credential memory %s: %w", path, err)
		}
		m.m[a] = v
	}
	return m, nil
}

// Preferred implements Memory.
func (m *MemoryFile) Preferred(addr netip.Addr) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	name, ok := m.m[addr]
	return name, ok
}

// Remember implements Memory.
func (m *MemoryFile) Remember(addr netip.Addr, credential string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[addr] = credential
}

// Save writes the memory back to the file it was loaded from, atomically
// (temporary file and rename), creating the directory if needed. It does
// nothing for a memory made by NewMemory.
func (m *MemoryFile) Save() error {
	path := m.path
	if path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("credential memory: %w", err)
	}
	m.mu.Lock()
	raw := make(map[string]string, len(m.m))
	for a, name := range maps.All(m.m) {
		raw[a.String()] = name
	}
	m.mu.Unlock()
	data, err := json.MarshalIndent(raw, "", "  ")
	if err != nil {
		return fmt.Errorf("credential memory: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".lanscout-memory-*")
	if err != nil {
		return fmt.Errorf("credential memory: %w", err)
	}
	_, werr := tmp.Write(append(data, '\n'))
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("credential memory %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("credential memory %s: %w", path, err)
	}
	return nil
}
