// Package snmptest runs real SNMP agents on loopback for tests and
// benchmarks: Debian's snmpsimd replaying .snmprec recordings (one device
// per 127.x.y.z address) and net-snmp's snmpd with v1/v2c communities and
// v3 users. Every agent is a child process stopped by its PID when the test
// ends. Tests skip, saying why, when a binary is missing (make test installs
// them) and when not run as root (snmpsimd must switch to nobody).
package snmptest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

// TB is the part of testing.TB the harness needs, so that the benchmark
// program (not a test) can start agents too.
type TB interface {
	Helper()
	Logf(format string, args ...any)
	Skipf(format string, args ...any)
	Fatalf(format string, args ...any)
	Cleanup(func())
}

var _ TB = (testing.TB)(nil)

// CorpusDir returns the development corpus directory (holding snmprec/ and
// labels.tsv): $LANSCOUT_CORPUS if set, else shared/corpus/dev beside the
// repository, found by walking up from the working directory. The corpus
// is GPL test data and is never copied into the repository.
func CorpusDir(t TB) string {
	t.Helper()
	dir, err := FindCorpus()
	if err != nil {
		t.Skipf("snmptest: %v", err)
	}
	return dir
}

// FindCorpus is CorpusDir without a test.
func FindCorpus() (string, error) {
	if d := os.Getenv("LANSCOUT_CORPUS"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "snmprec")); err != nil {
			return "", fmt.Errorf("LANSCOUT_CORPUS=%s: %w", d, err)
		}
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		c := filepath.Join(d, "..", "shared", "corpus", "dev")
		if _, err := os.Stat(filepath.Join(c, "snmprec")); err == nil {
			return filepath.Clean(c), nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no corpus: set LANSCOUT_CORPUS or put shared/ beside the repository (searched up from %s)", wd)
		}
	}
}

// CorpusFile returns the path of a recording of the corpus by file name.
func CorpusFile(t TB, name string) string {
	t.Helper()
	p := filepath.Join(CorpusDir(t), "snmprec", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("snmptest: %v", err)
	}
	return p
}

// need skips unless the binary exists and we are root.
func need(t TB, bin string) string {
	t.Helper()
	p, err := exec.LookPath(bin)
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/" + bin); serr == nil {
			p = "/usr/sbin/" + bin
		} else {
			t.Skipf("snmptest: %s not installed (make test-deps installs it)", bin)
		}
	}
	if os.Geteuid() != 0 {
		t.Skipf("snmptest: %s needs root here (to drop to nobody / own its files)", bin)
	}
	return p
}

// Device is one simulated agent.
type Device struct {
	File      string         // the recording served
	Addr      netip.AddrPort // where it answers
	Community string         // v1/v2c community; also the v3 context name in Plain mode
}

// snmpsimd's built-in v3 user, answering in Plain mode with the device's
// Community as context name.
const (
	SimV3User     = "simulator"
	SimV3AuthPass = "auctoritas" // MD5
	SimV3PrivPass = "privatus"   // DES
)

// Sim is a running snmpsimd.
type Sim struct {
	Devices   []Device
	Community string // "public"
	Prefix    netip.Prefix
	proc      *process
}

// SimOptions tune StartSim.
type SimOptions struct {
	// Port for every endpoint; 0 picks 1161.
	Port uint16
	// Plain serves every file at one address instead, with community =
	// file name without .snmprec, and to SNMPv3 user SimV3User with
	// context name = that same name (snmpsimd without --v2c-arch; its v3
	// user answers nothing without the context).
	Plain bool
}

// StartSim serves each recording at its own loopback address (device k
// at 127.X.Y.(k+1), X and Y random so concurrent test packages do not
// collide) with community "public", using snmpsimd --v2c-arch (see
// SimOptions.Plain for the other mode). At most 254 files. It returns once
// every device answers.
func StartSim(t TB, files []string, opts SimOptions) *Sim {
	t.Helper()
	bin := need(t, "snmpsimd")
	if len(files) == 0 || len(files) > 254 {
		t.Fatalf("snmptest: StartSim wants 1 to 254 files, got %d", len(files))
	}
	port := opts.Port
	if port == 0 {
		port = 1161
	}
	root := tempDir(t, "lanscout-snmpsim-")
	data := filepath.Join(root, "data", "public") // --v2c-arch layout
	if opts.Plain {
		data = filepath.Join(root, "data")
	}
	cache := filepath.Join(root, "cache")
	for _, d := range []string{data, cache} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatalf("snmptest: %v", err)
		}
	}
	if err := os.Chown(cache, nobodyUID, nogroupGID); err != nil {
		t.Fatalf("snmptest: chown cache: %v", err)
	}
	n := len(files)
	if opts.Plain {
		n = 1
	}
	prefix := freePrefix(t, port, n)
	s := &Sim{Community: "public", Prefix: prefix}
	args := []string{"--data-dir=" + filepath.Join(root, "data"), "--cache-dir=" + cache,
		"--process-user=nobody", "--process-group=nogroup", "--logging-method=null"}
	if opts.Plain {
		a := netip.AddrPortFrom(hostAt(prefix, 1), port)
		seen := map[string]bool{}
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ".snmprec")
			if seen[name] {
				t.Fatalf("snmptest: two files named %s", name)
			}
			seen[name] = true
			if err := copyFile(f, filepath.Join(data, name+".snmprec")); err != nil {
				t.Fatalf("snmptest: %v", err)
			}
			s.Devices = append(s.Devices, Device{File: f, Addr: a, Community: name})
		}
		s.Community = ""
		args = append(args, fmt.Sprintf("--agent-udpv4-endpoint=%s", a))
	} else {
		args = append(args, "--v2c-arch")
		for k, f := range files {
			if err := copyFile(f, filepath.Join(data, fmt.Sprintf("1.3.6.1.6.1.1.%d.snmprec", k))); err != nil {
				t.Fatalf("snmptest: %v", err)
			}
			a := hostAt(prefix, k+1)
			s.Devices = append(s.Devices, Device{File: f, Addr: netip.AddrPortFrom(a, port), Community: "public"})
			args = append(args, fmt.Sprintf("--agent-udpv4-endpoint=%s:%d", a, port))
		}
	}
	s.proc = startProcess(t, bin, args, nil)
	// The first start indexes every file; big recordings take seconds.
	for _, d := range s.Devices {
		if err := waitAnswer(s.proc, d.Addr, d.Community, 120*time.Second); err != nil {
			t.Fatalf("snmptest: snmpsimd never answered at %s: %v\n%s", d.Addr, err, s.proc.output())
		}
	}
	return s
}

// Stop ends the simulator (also done at cleanup).
func (s *Sim) Stop() { s.proc.stop() }

// PID returns the simulator's process ID.
func (s *Sim) PID() int { return s.proc.cmd.Process.Pid }

// Pause stops the process with SIGSTOP so it stops answering; Resume
// continues it.
func (s *Sim) Pause() error  { return s.proc.signal(syscall.SIGSTOP) }
func (s *Sim) Resume() error { return s.proc.signal(syscall.SIGCONT) }

// V3User is a USM user of an Snmpd.
type V3User struct {
	Name     string
	Auth     string // MD5, SHA, SHA-224, SHA-256, SHA-384, SHA-512 (net-snmp names)
	AuthPass string
	Priv     string // DES, AES ("" for authNoPriv)
	PrivPass string
}

// SnmpdOptions shape what StartSnmpd's agent says.
type SnmpdOptions struct {
	Port        uint16 // 0 picks 1161
	Community   string // v1 and v2c, read-only; "" means "public"
	SysDescr    string
	SysObjectID string
	SysServices int
	SysName     string
	Users       []V3User
}

// Snmpd is a running net-snmp agent.
type Snmpd struct {
	Addr netip.AddrPort
	proc *process
}

// StartSnmpd runs snmpd in the foreground on a random loopback address and
// waits until it answers.
func StartSnmpd(t TB, opts SnmpdOptions) *Snmpd {
	t.Helper()
	bin := need(t, "snmpd")
	port := opts.Port
	if port == 0 {
		port = 1161
	}
	if opts.Community == "" {
		opts.Community = "public"
	}
	dir := tempDir(t, "lanscout-snmpd-")
	prefix := freePrefix(t, port, 1)
	addr := netip.AddrPortFrom(hostAt(prefix, 1), port)
	var conf strings.Builder
	fmt.Fprintf(&conf, "agentAddress udp:%s\n", addr)
	fmt.Fprintf(&conf, "rocommunity %s default\n", opts.Community)
	line := func(key, val string) {
		if val != "" {
			fmt.Fprintf(&conf, "%s %s\n", key, val)
		}
	}
	line("sysDescr", opts.SysDescr)
	line("sysObjectID", opts.SysObjectID)
	line("sysName", opts.SysName)
	if opts.SysServices != 0 {
		fmt.Fprintf(&conf, "sysServices %d\n", opts.SysServices)
	}
	for _, u := range opts.Users {
		fmt.Fprintf(&conf, "createUser %s %s %q", u.Name, strings.ReplaceAll(u.Auth, "-", ""), u.AuthPass)
		level := "auth"
		if u.Priv != "" {
			fmt.Fprintf(&conf, " %s %q", u.Priv, u.PrivPass)
			level = "priv"
		}
		fmt.Fprintf(&conf, "\nrouser %s %s\n", u.Name, level)
	}
	confPath := filepath.Join(dir, "snmpd.conf")
	if err := os.WriteFile(confPath, []byte(conf.String()), 0o600); err != nil {
		t.Fatalf("snmptest: %v", err)
	}
	logPath := filepath.Join(dir, "snmpd.log")
	env := []string{"SNMP_PERSISTENT_DIR=" + filepath.Join(dir, "persist"), "MIBS="}
	p := startProcess(t, bin, []string{"-f", "-I", "-smux", "-C", "-c", confPath, "-Lf", logPath}, env)
	if err := waitAnswer(p, addr, opts.Community, 30*time.Second); err != nil {
		log, _ := os.ReadFile(logPath)
		t.Fatalf("snmptest: snmpd never answered at %s: %v\n%s\n%s", addr, err, p.output(), log)
	}
	return &Snmpd{Addr: addr, proc: p}
}

// Stop ends the agent (also done at cleanup).
func (d *Snmpd) Stop() { d.proc.stop() }

// Pause stops the agent with SIGSTOP; Resume continues it.
func (d *Snmpd) Pause() error  { return d.proc.signal(syscall.SIGSTOP) }
func (d *Snmpd) Resume() error { return d.proc.signal(syscall.SIGCONT) }

const (
	nobodyUID  = 65534
	nogroupGID = 65534
)

// process is a child agent, stopped by PID at cleanup.
type process struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
	once sync.Once
}

func startProcess(t TB, bin string, args, env []string) *process {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("snmptest: start %s: %v", bin, err)
	}
	p := &process{cmd: cmd, out: out, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(p.stop)
	return p
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *process) signal(sig syscall.Signal) error {
	if p.exited() {
		return errors.New("process has exited")
	}
	return p.cmd.Process.Signal(sig)
}

// stop sends SIGTERM (after SIGCONT, in case a test paused it), then
// SIGKILL if the process lingers.
func (p *process) stop() {
	p.once.Do(func() {
		if p.exited() {
			return
		}
		p.cmd.Process.Signal(syscall.SIGCONT)
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
	})
}

func (p *process) output() string { return p.out.String() }

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 {
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitAnswer polls addr with a v2c GETNEXT until anything answers.
func waitAnswer(p *process, addr netip.AddrPort, community string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	for {
		if p.exited() {
			return fmt.Errorf("process exited: %v", p.cmd.ProcessState)
		}
		g := &gosnmp.GoSNMP{Target: addr.Addr().String(), Port: addr.Port(), Transport: "udp",
			Community: community, Version: gosnmp.Version2c, Timeout: 300 * time.Millisecond,
			Retries: 0, Context: ctx, MaxOids: 1}
		if err := g.Connect(); err != nil {
			return err
		}
		_, err := g.GetNext([]string{".1.3.6"})
		g.Close()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// freePrefix picks a random 127.X.Y.0/24 whose first n addresses have
// port free, so that harnesses in concurrent test processes do not meet.
func freePrefix(t TB, port uint16, n int) netip.Prefix {
	t.Helper()
	for range 50 {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{127, byte(100 + rand.IntN(150)), byte(rand.IntN(256)), 0}), 24)
		ok := true
		for k := 1; k <= n && ok; k++ {
			c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(hostAt(p, k), port)))
			if err != nil {
				ok = false
				continue
			}
			c.Close()
		}
		if ok {
			return p
		}
	}
	t.Fatalf("snmptest: no free loopback /24 for port %d", port)
	return netip.Prefix{}
}

func hostAt(p netip.Prefix, k int) netip.Addr {
	b := p.Addr().As4()
	b[3] = byte(k)
	return netip.AddrFrom4(b)
}

// tempDir makes a directory nobody can read (snmpsimd drops to nobody),
// removed at cleanup.
func tempDir(t TB, pattern string) string {
	t.Helper()
	d, err := os.MkdirTemp("", pattern)
	if err != nil {
		t.Fatalf("snmptest: %v", err)
	}
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatalf("snmptest: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
