package satellite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
)

// Defaults of Config.
const (
	DefaultPort           = 22
	DefaultConnectTimeout = 10 * time.Second
	DefaultCommandTimeout = 60 * time.Second
	DefaultScanTimeout    = 30 * time.Minute
	// DefaultMaxCommandBytes keeps a wake command far under the 128 KiB a
	// single argument may take on Linux (sshd runs it as sh -c COMMAND),
	// and under what older sshd builds and shells accept.
	DefaultMaxCommandBytes = 32 << 10
	// DefaultMaxBatch bounds the MACs of one command (OCO used 1,500).
	DefaultMaxBatch = 1000
	// DefaultSessions is how many commands run at once on one connection;
	// OpenSSH's MaxSessions defaults to 10.
	DefaultSessions = 4
)

// Config says how to reach one satellite and what to run there.
type Config struct {
	Name    string // for messages
	Address string // host name or IP address
	Port    int    // default 22
	User    string
	// Signer is the client key (ParsePrivateKey).
	Signer ssh.Signer
	// HostKey is the satellite's trusted host key. Without it Dial refuses
	// to connect: Probe fetches the key for an admin to confirm.
	HostKey ssh.PublicKey
	// WakeCommand is the command template; default DefaultWakeCommand.
	WakeCommand string
	// WakePorts are the UDP ports a template with {port} is run for, once
	// each; default wol's 9 and 7. Set without 9, a template without
	// {port} is refused: the satellite's program would send to 9.
	WakePorts []int
	// WakePassword is the SecureOn password (4 or 6 bytes) for
	// {password}; nil for none. Set, a template without {password} is
	// refused rather than sending packets without it.
	WakePassword []byte

	ConnectTimeout  time.Duration // TCP connect plus SSH handshake; default 10s
	CommandTimeout  time.Duration // each command; default 60s
	ScanTimeout     time.Duration // a whole remote scan; default 30m
	MaxCommandBytes int           // default DefaultMaxCommandBytes
	MaxBatch        int           // MACs per command; default DefaultMaxBatch
	Sessions        int           // commands at once; default DefaultSessions

	// Dial opens the TCP connection; default a net.Dialer. Tests dial
	// from inside a network namespace with it.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	// Logger hears what the caller should know but is no error (a scan
	// that fell back to an older format); default discards.
	Logger *slog.Logger
}

func (c *Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// HostPort is the address dialled.
func (c *Config) HostPort() string {
	port := c.Port
	if port == 0 {
		port = DefaultPort
	}
	return net.JoinHostPort(c.Address, strconv.Itoa(port))
}

func (c *Config) label() string {
	if c.Name != "" {
		return fmt.Sprintf("satellite %s (%s)", c.Name, c.HostPort())
	}
	return "satellite " + c.HostPort()
}

func (c *Config) defaults() {
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.CommandTimeout <= 0 {
		c.CommandTimeout = DefaultCommandTimeout
	}
	if c.ScanTimeout <= 0 {
		c.ScanTimeout = DefaultScanTimeout
	}
	if c.MaxCommandBytes <= 0 {
		c.MaxCommandBytes = DefaultMaxCommandBytes
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = DefaultMaxBatch
	}
	if c.Sessions <= 0 {
		c.Sessions = DefaultSessions
	}
	if c.WakeCommand == "" {
		c.WakeCommand = DefaultWakeCommand
	}
}

// Validate checks what can be checked without connecting.
func (c *Config) Validate() error {
	if strings.TrimSpace(c.Address) == "" {
		return errors.New("satellite: no address")
	}
	if strings.ContainsAny(c.Address, " /\\@") {
		return fmt.Errorf("satellite: address %q is not a host name or IP address", c.Address)
	}
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("satellite: port %d: want 1-65535", c.Port)
	}
	if c.User == "" {
		return errors.New("satellite: no user")
	}
	if c.WakeCommand != "" {
		if _, err := ParseTemplate(c.WakeCommand); err != nil {
			return err
		}
	}
	return nil
}

// HostKeyChangedError is returned when a satellite offers another host key
// than the one trusted: someone may be in the middle, or the host was
// reinstalled. Nothing is sent; an admin must look and trust the new key.
type HostKeyChangedError struct {
	Satellite string
	Want      string // fingerprint of the trusted key
	Got       string // fingerprint offered, "" when the host offered no key of the trusted type
	GotKey    ssh.PublicKey
}

func (e *HostKeyChangedError) Error() string {
	got := e.Got
	if got == "" {
		got = "no key of the trusted type"
	}
	return fmt.Sprintf("HOST KEY CHANGED for %s: trusted %s, offered %s; refusing to connect (someone may be intercepting the connection, or the host was reinstalled: check, then trust the new key)", e.Satellite, e.Want, got)
}

// ErrHostKeyUnknown is returned by Dial when no host key is trusted yet.
var ErrHostKeyUnknown = errors.New("no trusted host key: test the connection and confirm its fingerprint first")

// Fingerprint is the SHA-256 fingerprint OpenSSH prints (SHA256:...).
func Fingerprint(k ssh.PublicKey) string {
	if k == nil {
		return ""
	}
	return ssh.FingerprintSHA256(k)
}

// ParseHostKey reads a host key in authorized_keys form ("ssh-ed25519
// AAAA... comment") or known_hosts form ("host ssh-ed25519 AAAA...").
func ParseHostKey(s string) (ssh.PublicKey, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("empty host key")
	}
	if k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(s)); err == nil {
		return k, nil
	}
	_, _, k, _, _, err := ssh.ParseKnownHosts([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("host key: want \"TYPE BASE64\" as in a .pub or known_hosts file: %w", err)
	}
	return k, nil
}

// FormatHostKey writes a key in authorized_keys form, one line without
// newline.
func FormatHostKey(k ssh.PublicKey) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
}

// ParsePrivateKey reads an unencrypted OpenSSH or PEM private key. An
// appliance has nobody to type a passphrase; keep the key file 0600.
func ParsePrivateKey(pem []byte) (ssh.Signer, error) {
	s, err := ssh.ParsePrivateKey(pem)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		return nil, errors.New("private key is passphrase-protected: give lanscout a key of its own without a passphrase (ssh-keygen -N '')")
	}
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	return s, nil
}

// LoadPrivateKey reads ParsePrivateKey's input from a file.
func LoadPrivateKey(path string) (ssh.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read private key: %w", err)
	}
	s, err := ParsePrivateKey(b)
	clear(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Client is one SSH connection to a satellite.
type Client struct {
	cfg    Config
	ssh    *ssh.Client
	closed chan struct{}
	once   sync.Once
}

// Dial connects to the satellite, checking its host key strictly against
// cfg.HostKey: an unknown key fails with ErrHostKeyUnknown, a changed one
// with *HostKeyChangedError. The context and ConnectTimeout bound the TCP
// connect and the whole handshake (ssh.ClientConfig.Timeout covers only the
// connect).
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.HostKey == nil {
		return nil, fmt.Errorf("%s: %w", cfg.label(), ErrHostKeyUnknown)
	}
	if cfg.Signer == nil {
		return nil, fmt.Errorf("%s: no private key", cfg.label())
	}
	conn, err := dialTCP(ctx, &cfg)
	if err != nil {
		return nil, err
	}
	hk, algos, err := trustedKey(cfg.HostPort(), conn.RemoteAddr(), cfg.HostKey)
	if err != nil {
		conn.Close()
		return nil, err
	}
	var offered ssh.PublicKey
	var changed bool
	ccfg := &ssh.ClientConfig{
		User: cfg.User,
		Auth: []ssh.AuthMethod{ssh.PublicKeys(cfg.Signer)},
		HostKeyCallback: func(host string, remote net.Addr, key ssh.PublicKey) error {
			offered = key
			err := hk(host, remote, key)
			// Any refusal of an offered key is a changed key: the one
			// trusted entry names this host and this address.
			changed = err != nil
			return err
		},
		HostKeyAlgorithms: algos,
		Timeout:           cfg.ConnectTimeout,
	}
	c, err := handshake(ctx, &cfg, conn, ccfg)
	if err != nil {
		if changed || (offered == nil && strings.Contains(err.Error(), "no common algorithm for host key")) {
			return nil, &HostKeyChangedError{Satellite: cfg.label(), Want: Fingerprint(cfg.HostKey), Got: Fingerprint(offered), GotKey: offered}
		}
		return nil, err
	}
	cl := &Client{cfg: cfg, ssh: c, closed: make(chan struct{})}
	return cl, nil
}

// trustedKey builds the host-key check from the one trusted key with
// skeema/knownhosts, whose HostKeyAlgorithms makes the client ask for the
// trusted key's type: x/crypto/ssh otherwise negotiates whatever type the
// server prefers and a host with several keys looks "changed"
// (golang/go#29286). knownhosts reads files only, so the entry goes
// through a private temporary file that is gone before the handshake.
func trustedKey(hostPort string, remote net.Addr, key ssh.PublicKey) (ssh.HostKeyCallback, []string, error) {
	dir, err := os.MkdirTemp("", "lanscout-known-hosts-")
	if err != nil {
		return nil, nil, fmt.Errorf("host key check: %w", err)
	}
	defer os.RemoveAll(dir)
	addrs := []string{hostPort}
	if remote != nil && remote.String() != hostPort {
		addrs = append(addrs, remote.String())
	}
	path := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(path, []byte(knownhosts.Line(addrs, key)+"\n"), 0o600); err != nil {
		return nil, nil, fmt.Errorf("host key check: %w", err)
	}
	db, err := knownhosts.NewDB(path)
	if err != nil {
		return nil, nil, fmt.Errorf("host key check: %w", err)
	}
	return db.HostKeyCallback(), db.HostKeyAlgorithms(hostPort), nil
}

func dialTCP(ctx context.Context, cfg *Config) (net.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	dial := cfg.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	conn, err := dial(dctx, "tcp", cfg.HostPort())
	if err != nil {
		if ctx.Err() == nil && dctx.Err() != nil {
			return nil, fmt.Errorf("connect to %s: no answer within %s", cfg.label(), cfg.ConnectTimeout)
		}
		return nil, fmt.Errorf("connect to %s: %w", cfg.label(), err)
	}
	return conn, nil
}

// handshake runs the SSH handshake and authentication under a deadline on
// the connection, which x/crypto/ssh has no other way to bound, and
// under ctx.
func handshake(ctx context.Context, cfg *Config, conn net.Conn, ccfg *ssh.ClientConfig) (*ssh.Client, error) {
	deadline := time.Now().Add(cfg.ConnectTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	c, chans, reqs, err := ssh.NewClientConn(conn, cfg.HostPort(), ccfg)
	stopped := stop()
	if err != nil {
		conn.Close()
		if !stopped || ctx.Err() != nil {
			return nil, fmt.Errorf("ssh to %s: %w", cfg.label(), context.Cause(ctx))
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, fmt.Errorf("ssh to %s: handshake not done within %s", cfg.label(), cfg.ConnectTimeout)
		}
		if strings.Contains(err.Error(), "unable to authenticate") {
			return nil, fmt.Errorf("ssh to %s: user %q was refused with this key: add its public key to the user's authorized_keys (%w)", cfg.label(), cfg.User, err)
		}
		return nil, fmt.Errorf("ssh to %s: %w", cfg.label(), err)
	}
	_ = conn.SetDeadline(time.Time{})
	return ssh.NewClient(c, chans, reqs), nil
}

// Close closes the connection.
func (c *Client) Close() error {
	var err error
	c.once.Do(func() {
		close(c.closed)
		err = c.ssh.Close()
	})
	return err
}

// ExitError is a command that ran and failed.
type ExitError struct {
	Command string
	Status  int // -1 when the server sent none
	Stderr  string
}

func (e *ExitError) Error() string {
	msg := fmt.Sprintf("%q exited with status %d", e.Command, e.Status)
	if e.Status == -1 {
		msg = fmt.Sprintf("%q ended without an exit status", e.Command)
	}
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}

// maxOutput caps what is kept of a command's standard error; the output
// of a scan goes to the caller's writer instead.
const maxOutput = 64 << 10

// Run runs cmd (a line built by Template.Expand or from fixed words) on the
// satellite with stdin as its standard input, writing its standard output
// to stdout. It ends the command when ctx ends or CommandTimeout passes.
// A failure exit is *ExitError with the end of standard error.
func (c *Client) Run(ctx context.Context, cmd string, stdin io.Reader, stdout io.Writer) error {
	return c.run(ctx, c.cfg.CommandTimeout, cmd, stdin, stdout)
}

func (c *Client) run(ctx context.Context, timeout time.Duration, cmd string, stdin io.Reader, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	sess, err := c.ssh.NewSession()
	if err != nil {
		return fmt.Errorf("%s: open session: %w", c.cfg.label(), err)
	}
	defer sess.Close()
	var stderr tailBuffer
	sess.Stdin = stdin
	sess.Stdout = stdout
	sess.Stderr = &stderr
	done := make(chan error, 1)
	go func() { done <- sess.Run(cmd) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		// Best effort: OpenSSH delivers signals since 7.9; closing the
		// session ends the command's channel in any case.
		_ = sess.Signal(ssh.SIGKILL)
		_ = sess.Close()
		<-done // the goroutine owns the buffers until it returns
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("%s: %q still running after %s, ended", c.cfg.label(), cmd, timeout)
		}
		return fmt.Errorf("%s: %q: %w", c.cfg.label(), cmd, ctx.Err())
	}
	if err == nil {
		return nil
	}
	var ee *ssh.ExitError
	if errors.As(err, &ee) {
		return &ExitError{Command: cmd, Status: ee.ExitStatus(), Stderr: strings.TrimSpace(stderr.String())}
	}
	var missing *ssh.ExitMissingError
	if errors.As(err, &missing) {
		return &ExitError{Command: cmd, Status: -1, Stderr: strings.TrimSpace(stderr.String())}
	}
	return fmt.Errorf("%s: %q: %w", c.cfg.label(), cmd, err)
}

// tailBuffer keeps the last maxOutput bytes written to it.
type tailBuffer struct{ b bytes.Buffer }

func (t *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) > maxOutput {
		p = p[len(p)-maxOutput:]
	}
	if t.b.Len()+len(p) > maxOutput {
		rest := t.b.Bytes()[t.b.Len()+len(p)-maxOutput:]
		keep := append([]byte(nil), rest...)
		t.b.Reset()
		t.b.Write(keep)
	}
	t.b.Write(p)
	return n, nil
}

func (t *tailBuffer) String() string { return t.b.String() }
