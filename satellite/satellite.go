package satellite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"

	"github.com/lanscout/lanscout/scan"
	"github.com/lanscout/lanscout/wol"
)

// ProbeResult is what "test connection" shows an admin.
type ProbeResult struct {
	Address     string `json:"address"`     // host:port
	HostKey     string `json:"host_key"`    // offered, authorized_keys form
	Fingerprint string `json:"fingerprint"` // SHA256:...
	Trusted     bool   `json:"trusted"`     // the offered key is the trusted one
	Changed     bool   `json:"changed"`     // a key is trusted and this is another
	TrustedKey  string `json:"trusted_fingerprint,omitempty"`
	LoggedIn    bool   `json:"logged_in"` // authenticated (only tried with a trusted key)
	LoginError  string `json:"login_error,omitempty"`
	WakeProgram string `json:"wake_program,omitempty"` // the wake command's program
	// WakeProgramPath is where `command -v` found it; "" when missing.
	WakeProgramPath string `json:"wake_program_path,omitempty"`
	// LanscoutPath is where lanscout is installed on the satellite, ""
	// when it is not (then it cannot scan).
	LanscoutPath string `json:"lanscout_path,omitempty"`
}

// errProbed ends a probe's handshake once the key is known.
var errProbed = errors.New("host key fetched for confirmation")

// Probe connects to a satellite to show its host key without trusting it.
// When cfg.HostKey is set and the satellite offers that key, it also logs
// in and looks for the wake program and lanscout (`command -v`). It never
// authenticates to a host whose key is not the trusted one: a private key
// offered to an impostor tells it who we are. The error is for failures
// to reach the host at all; a changed key is reported in the result
// (Changed), for the page that shows both fingerprints.
func Probe(ctx context.Context, cfg Config) (ProbeResult, error) {
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return ProbeResult{}, err
	}
	tmpl, err := ParseTemplate(cfg.WakeCommand)
	if err != nil {
		return ProbeResult{}, err
	}
	res := ProbeResult{Address: cfg.HostPort(), WakeProgram: tmpl.Program(), TrustedKey: Fingerprint(cfg.HostKey)}
	conn, err := dialTCP(ctx, &cfg)
	if err != nil {
		return res, err
	}
	var algos []string
	if cfg.HostKey != nil {
		if _, algos, err = trustedKey(cfg.HostPort(), conn.RemoteAddr(), cfg.HostKey); err != nil {
			conn.Close()
			return res, err
		}
	}
	var offered ssh.PublicKey
	auth := []ssh.AuthMethod{}
	if cfg.Signer != nil {
		auth = append(auth, ssh.PublicKeys(cfg.Signer))
	}
	ccfg := &ssh.ClientConfig{
		User: cfg.User,
		Auth: auth,
		HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
			offered = key
			if cfg.HostKey != nil && bytes.Equal(key.Marshal(), cfg.HostKey.Marshal()) && cfg.Signer != nil {
				return nil
			}
			return errProbed
		},
		HostKeyAlgorithms: algos,
		Timeout:           cfg.ConnectTimeout,
	}
	c, err := handshake(ctx, &cfg, conn, ccfg)
	if offered != nil {
		res.HostKey = FormatHostKey(offered)
		res.Fingerprint = Fingerprint(offered)
		if cfg.HostKey != nil {
			res.Trusted = bytes.Equal(offered.Marshal(), cfg.HostKey.Marshal())
			res.Changed = !res.Trusted
		}
	}
	if err != nil {
		if offered == nil {
			if cfg.HostKey != nil && strings.Contains(err.Error(), "no common algorithm for host key") {
				res.Changed = true
				return res, nil
			}
			return res, err
		}
		if !errors.Is(err, errProbed) && res.Trusted {
			res.LoginError = err.Error()
		}
		return res, nil
	}
	defer c.Close()
	res.LoggedIn = true
	cl := &Client{cfg: cfg, ssh: c, closed: make(chan struct{})}
	res.WakeProgramPath = cl.lookPath(ctx, tmpl.Program())
	res.LanscoutPath = cl.lookPath(ctx, "lanscout")
	return res, nil
}

// lookPath runs `command -v PROGRAM` (a checked literal word) and returns
// what it printed, "" when the program is missing.
func (c *Client) lookPath(ctx context.Context, program string) string {
	if !shellWord(program) {
		return ""
	}
	var out bytes.Buffer
	if err := c.Run(ctx, "command -v "+program, nil, &out); err != nil {
		return ""
	}
	return strings.TrimSpace(out.String())
}

// Result is the outcome of a wake for one MAC.
type Result struct {
	MAC net.HardwareAddr
	Err error // nil: the satellite's command ran and exited 0
}

// ErrWakeCommandCannot is matched by the error of a wake whose command
// cannot carry what is configured: a SecureOn password, or UDP ports.
var ErrWakeCommandCannot = errors.New("the wake command cannot carry the configured setting")

// Wake sends magic packets for macs through the satellite: the wake
// command, with broadcast, iface, port and password filled in, in batches
// that keep each command line under the limits, once per port when the
// command has {port}, several at a time on one connection. It returns
// one Result per MAC, in order; a MAC counts as sent when a command for
// any one port sent it (the card wakes on any one packet). The error is
// for failing the whole wake before any command ran (a bad template, one
// that cannot carry cfg.WakePassword or cfg.WakePorts, an unreachable
// host, a changed host key: *HostKeyChangedError); then no MAC was sent.
func Wake(ctx context.Context, cfg Config, broadcast netip.Addr, iface string, macs []net.HardwareAddr) ([]Result, error) {
	cfg.defaults()
	tmpl, err := ParseTemplate(cfg.WakeCommand)
	if err != nil {
		return nil, err
	}
	if len(cfg.WakePassword) > 0 && !tmpl.Uses(phPassword) {
		return nil, fmt.Errorf("%s: %w: a SecureOn password is configured (wake.password) and the wake command %q has no {password}, "+
			"so its packets would not wake the machines; nothing was sent. Debian's wakeonlan has no SecureOn option: use %q",
			cfg.label(), ErrWakeCommandCannot, tmpl, LanscoutPasswordWakeCommand)
	}
	ports := []int{0}
	switch {
	case tmpl.Uses(phPort) && len(cfg.WakePorts) > 0:
		ports = cfg.WakePorts
	case tmpl.Uses(phPort):
		ports = wol.DefaultPorts
	case len(cfg.WakePorts) > 0 && !slices.Contains(cfg.WakePorts, 9):
		// Without {port} the satellite's program sends to port 9 (every
		// one does, wakeonlan and lanscout wake included): fine when 9 is
		// one of the ports configured, the card wakes on any one packet.
		return nil, fmt.Errorf("%s: %w: UDP ports %v are configured (wake.ports) and the wake command %q has no {port}, "+
			"so the satellite would send to port 9; nothing was sent. Add -p {port} (wakeonlan) or --port {port} (lanscout wake)",
			cfg.label(), ErrWakeCommandCannot, cfg.WakePorts, tmpl)
	}
	batches, err := tmpl.Batches(macs, cfg.MaxCommandBytes, cfg.MaxBatch)
	if err != nil {
		return nil, err
	}
	// cmds[i*len(ports)+k] is batch i for ports[k].
	cmds := make([]string, 0, len(batches)*len(ports))
	for _, b := range batches {
		for _, port := range ports {
			cmd, err := tmpl.ExpandParams(Params{Broadcast: broadcast, Iface: iface, Port: port, Password: cfg.WakePassword}, b)
			if err != nil {
				return nil, err
			}
			cmds = append(cmds, cmd)
		}
	}
	if len(cmds) == 0 {
		return []Result{}, nil
	}
	c, err := Dial(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	errs := make([]error, len(cmds))
	outputs := make([]tailBuffer, len(cmds))
	sem := make(chan struct{}, cfg.Sessions)
	var wg sync.WaitGroup
	for i, cmd := range cmds {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = ctx.Err()
				return
			}
			defer func() { <-sem }()
			errs[i] = c.Run(ctx, cmd, nil, &outputs[i])
		})
	}
	wg.Wait()
	out := make([]Result, 0, len(macs))
	for i, b := range batches {
		errsOf := make([]error, len(ports))
		sent := make([]map[string]bool, len(ports))
		for k := range ports {
			if errsOf[k] = errs[i*len(ports)+k]; errsOf[k] != nil {
				sent[k] = sentMACs(outputs[i*len(ports)+k].String())
			}
		}
		for _, m := range b {
			r := Result{MAC: m}
			var failed []error
			for k := range ports {
				// A failed command may still say this MAC went out:
				// lanscout wake exits 1 when any one MAC failed.
				if errsOf[k] == nil || sent[k][m.String()] {
					failed = nil
					break
				}
				failed = append(failed, errsOf[k])
			}
			if len(failed) == 1 {
				r.Err = failed[0]
			} else if len(failed) > 1 {
				r.Err = errors.Join(failed...)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// sentMACs reads the MACs a wake command's output says it sent: lines of
// `lanscout wake` ("aa:bb:cc:dd:ee:ff  sent  ...") and of Debian's
// wakeonlan ("Sending magic packet to 10.0.0.255:9 with aa:bb:cc:dd:ee:ff").
func sentMACs(output string) map[string]bool {
	sent := map[string]bool{}
	for _, line := range strings.Split(output, "\n") {
		f := strings.Fields(line)
		var word string
		switch {
		case len(f) >= 2 && f[1] == "sent":
			word = f[0]
		case len(f) >= 7 && f[0] == "Sending" && f[1] == "magic" && f[len(f)-2] == "with":
			word = f[len(f)-1]
		default:
			continue
		}
		if hw, err := net.ParseMAC(word); err == nil {
			sent[hw.String()] = true
		}
	}
	return sent
}

// ScanRequest is a scan for a satellite with lanscout installed to run.
type ScanRequest struct {
	Target netip.Prefix
	Method string // "", auto, arp, icmp, tcp or snmp
	// Credentials is a --credentials YAML document, sent on the command's
	// standard input so that no secret is ever on a command line; nil for
	// lanscout's default (v2c public).
	Credentials []byte
}

// scanMethods are the methods a remote scan may be asked for.
var scanMethods = map[string]bool{"": true, "auto": true, "arp": true, "icmp": true, "tcp": true, "snmp": true}

// Scan formats: jsonl streams devices as they are identified; json is
// one document at the end, all that lanscout releases before jsonl know.
const (
	FormatStream = "jsonl"
	FormatReport = "json"
)

// ScanCommand is the command line Scan runs with format (FormatStream, or
// FormatReport for an older lanscout).
func ScanCommand(req ScanRequest, format string) (string, error) {
	if !req.Target.IsValid() {
		return "", errors.New("scan: no target")
	}
	if !scanMethods[req.Method] {
		return "", fmt.Errorf("scan: method %q: want auto, arp, icmp, tcp or snmp", req.Method)
	}
	if format != FormatStream && format != FormatReport {
		return "", fmt.Errorf("scan: format %q: want %s or %s", format, FormatStream, FormatReport)
	}
	words := []string{"lanscout", "scan", "--format", format}
	if req.Method != "" {
		words = append(words, "--method", req.Method)
	}
	if req.Credentials != nil {
		words = append(words, "--credentials", "/dev/stdin")
	}
	words = append(words, req.Target.Masked().String())
	return strings.Join(words, " "), nil
}

// FallbackWarning is the report warning of a scan that Scan had to run
// with --format json because the satellite's lanscout predates jsonl.
const FallbackWarning = "the satellite's lanscout does not know --format jsonl (an older release): " +
	"ran --format json instead, so devices arrived only when its scan ended; upgrade it to stream them"

// Scan runs `lanscout scan --format jsonl TARGET` on the satellite and
// calls device for every device line as it arrives, from one goroutine at
// a time; a device can come twice, the second time with details learnt
// late in the scan (reverse DNS names). It returns the report: the
// devices, one per address, with the summary's statistics.
//
// When the stream breaks (the connection drops, the command dies) the
// report still holds every device that arrived, with Incomplete set, and
// the error says what broke. An older lanscout that rejects the format is
// asked once more with --format json: its devices come at the end, the
// report carries FallbackWarning, and cfg.Logger is told.
func Scan(ctx context.Context, cfg Config, req ScanRequest, device func(scan.Device)) (*scan.Report, error) {
	cfg.defaults()
	cmd, err := ScanCommand(req, FormatStream)
	if err != nil {
		return nil, err
	}
	c, err := Dial(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	report, lines, err := c.scanStream(ctx, cmd, req, device)
	if err == nil || lines > 0 || !rejectsFormat(err) {
		return report, err
	}
	cfg.logger().Warn("satellite's lanscout does not stream scans: running --format json", "satellite", cfg.Name,
		"address", cfg.HostPort(), "err", err)
	if cmd, err = ScanCommand(req, FormatReport); err != nil {
		return nil, err
	}
	report, err = c.scanReport(ctx, cmd, req, device)
	if report != nil {
		report.Warnings = append(report.Warnings, FallbackWarning)
	}
	return report, err
}

// rejectsFormat tells an older lanscout's answer to --format jsonl: a
// usage error (exit 2) about the format, before it scanned anything.
func rejectsFormat(err error) bool {
	var ee *ExitError
	return errors.As(err, &ee) && ee.Status == 2 && strings.Contains(ee.Stderr, "--format") &&
		strings.Contains(ee.Stderr, FormatStream)
}

// scanStream runs cmd, which writes jsonl, handing devices on as they
// arrive. lines counts the device lines read, so that a failure before
// any output can be told from one in the middle of the scan.
func (c *Client) scanStream(ctx context.Context, cmd string, req ScanRequest, device func(scan.Device)) (*scan.Report, int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	var report *scan.Report
	var readErr error
	lines := 0
	done := make(chan struct{})
	target := req.Target.Masked()
	go func() {
		defer close(done)
		var outside error
		report, readErr = scan.ReadStream(pr, func(d scan.Device) {
			if outside != nil {
				return
			}
			// A device outside the target is a broken or hostile
			// satellite; it also bounds what the report can hold to the
			// target's addresses.
			if a, err := netip.ParseAddr(d.IP); err != nil || !target.Contains(a.Unmap()) {
				outside = fmt.Errorf("device %s is outside the target %s", d.IP, target)
				pr.CloseWithError(outside)
				return
			}
			lines++
			if device != nil {
				device(d)
			}
		})
		if outside != nil {
			readErr = outside
			report.Incomplete = true
			report.Devices = slices.DeleteFunc(report.Devices, func(d scan.Device) bool {
				a, err := netip.ParseAddr(d.IP)
				return err != nil || !target.Contains(a.Unmap())
			})
		}
		if readErr != nil && !errors.Is(readErr, io.ErrUnexpectedEOF) {
			// Garbage: what follows cannot be trusted either.
			cancel()
		}
		// Drain the rest so that the command's output never blocks.
		_, _ = io.Copy(io.Discard, pr)
	}()
	runErr := c.runScan(ctx, cmd, req, pw)
	<-done
	switch {
	case readErr != nil && runErr != nil && errors.Is(readErr, io.ErrUnexpectedEOF):
		// The command failed, which is why the stream stopped short.
		return report, lines, fmt.Errorf("%w (devices received before: %d)", runErr, len(report.Devices))
	case readErr != nil:
		return report, lines, fmt.Errorf("%s: %w", c.cfg.label(), readErr)
	}
	// lanscout exits 130 on interrupt and 1 when a sweep fails part-way,
	// and still writes its summary.
	return report, lines, runErr
}

// runScan runs the scan command cmd with req's credentials, if any, on
// its standard input and its output into pw, which it closes when the
// command ends so that the reader sees the end of the output.
func (c *Client) runScan(ctx context.Context, cmd string, req ScanRequest, pw *io.PipeWriter) error {
	var stdin io.Reader
	if req.Credentials != nil {
		stdin = bytes.NewReader(req.Credentials)
	}
	err := c.run(ctx, c.cfg.ScanTimeout, cmd, stdin, pw)
	pw.Close()
	return err
}

// scanReport runs cmd, which writes one JSON report at the end, and hands
// its devices on once it is read.
func (c *Client) scanReport(ctx context.Context, cmd string, req ScanRequest, device func(scan.Device)) (*scan.Report, error) {
	pr, pw := io.Pipe()
	var report *scan.Report
	var readErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		report, readErr = scan.ReadReport(pr)
		// Drain what follows the document so the command never blocks.
		_, _ = io.Copy(io.Discard, pr)
	}()
	runErr := c.runScan(ctx, cmd, req, pw)
	<-done
	if runErr == nil && readErr != nil {
		return nil, fmt.Errorf("%s: %w", c.cfg.label(), readErr)
	}
	if report == nil {
		return nil, runErr
	}
	if device != nil {
		for _, d := range report.Devices {
			device(d)
		}
	}
	return report, runErr
}
