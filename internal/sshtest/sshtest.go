// Package sshtest runs a real OpenSSH server (Debian's openssh-server) for
// tests: its own config, host keys made with ssh-keygen in a temporary
// directory, key-only authentication for one client key it generates. It
// runs on loopback or inside a lab namespace, in a private mount
// namespace with its own /run (sshd wants /run/sshd, which a machine that
// never started the service lacks), and is ended by its PID when the test
// ends.
package sshtest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lanscout/lanscout/internal/lab"
)

// Options say where the server runs.
type Options struct {
	// Lab and Namespace: run inside that lab namespace. Without a lab the
	// server runs in the test's own namespace, which must mean loopback.
	Lab       *lab.Lab
	Namespace string
	// Listen is where sshd listens; zero without a Lab, a free port on
	// 127.0.0.1.
	Listen netip.AddrPort
	// HostKeyTypes are ssh-keygen -t values; default ed25519 and ecdsa.
	HostKeyTypes []string
	// Env is set in every session (sshd's SetEnv), PATH included.
	Env map[string]string
}

// Server is a running sshd.
type Server struct {
	Addr   netip.AddrPort
	Dir    string
	User   string
	Client ssh.Signer // its public key is the only one authorized
	// ClientPEM is the client's private key in OpenSSH PEM form.
	ClientPEM []byte
	// HostKeys are the server's public keys by ssh-keygen type.
	HostKeys map[string]ssh.PublicKey

	opts Options
	cmd  *exec.Cmd
	proc *lab.Process
	done chan struct{}
	gen  int
}

// Skip skips t unless sshd, ssh-keygen and unshare are here and we are root.
func Skip(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: sshd for the satellite tests needs root")
	}
	for _, p := range []string{"/usr/sbin/sshd", "ssh-keygen", "unshare"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("skipping: %s not found (Debian openssh-server, util-linux): %v", p, err)
		}
	}
}

// Start starts sshd and waits until it accepts connections.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	Skip(t)
	if len(o.HostKeyTypes) == 0 {
		o.HostKeyTypes = []string{"ed25519", "ecdsa"}
	}
	if !o.Listen.IsValid() && o.Lab == nil {
		o.Listen = freeLoopback(t)
	}
	s := &Server{Addr: o.Listen, Dir: t.TempDir(), User: "root", opts: o}
	// The client key: generated here, authorized there.
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "lanscout test client")
	if err != nil {
		t.Fatal(err)
	}
	s.ClientPEM = pemEncode(block)
	if s.Client, err = ssh.NewSignerFromKey(priv); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.Dir, "authorized_keys"), ssh.MarshalAuthorizedKey(s.Client.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}
	s.newHostKeys(t)
	s.start(t)
	t.Cleanup(func() { s.stop(t) })
	return s
}

// freeLoopback is a TCP port on 127.0.0.1 that nothing listens on now.
func freeLoopback(t testing.TB) netip.AddrPort {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return netip.MustParseAddrPort(l.Addr().String())
}

// newHostKeys makes a fresh set of host keys (a reinstalled host, or an
// impostor).
func (s *Server) newHostKeys(t testing.TB) {
	t.Helper()
	s.gen++
	s.HostKeys = map[string]ssh.PublicKey{}
	for _, typ := range s.opts.HostKeyTypes {
		path := filepath.Join(s.Dir, fmt.Sprintf("host_%s_%d", typ, s.gen))
		if out, err := exec.Command("ssh-keygen", "-q", "-t", typ, "-N", "", "-C", "lanscout-test-host", "-f", path).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen -t %s: %v: %s", typ, err, out)
		}
		pub, err := os.ReadFile(path + ".pub")
		if err != nil {
			t.Fatal(err)
		}
		k, _, _, _, err := ssh.ParseAuthorizedKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		s.HostKeys[typ] = k
	}
	var conf strings.Builder
	fmt.Fprintf(&conf, "ListenAddress %s\n", s.Addr)
	for _, typ := range s.opts.HostKeyTypes {
		fmt.Fprintf(&conf, "HostKey %s\n", filepath.Join(s.Dir, fmt.Sprintf("host_%s_%d", typ, s.gen)))
	}
	fmt.Fprintf(&conf, `AuthorizedKeysFile %s
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
PidFile %s
LogLevel VERBOSE
`, filepath.Join(s.Dir, "authorized_keys"), filepath.Join(s.Dir, "sshd.pid"))
	if len(s.opts.Env) > 0 {
		conf.WriteString("SetEnv")
		for k, v := range s.opts.Env {
			fmt.Fprintf(&conf, " %s=%s", k, v)
		}
		conf.WriteString("\n")
	}
	if err := os.WriteFile(filepath.Join(s.Dir, "sshd_config"), []byte(conf.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (s *Server) start(t testing.TB) {
	t.Helper()
	// A private mount namespace with its own /run: sshd insists on
	// /run/sshd, and this must not create it on the host.
	script := "mount -t tmpfs lanscout-sshd /run && mkdir -m 0755 /run/sshd && exec /usr/sbin/sshd -D -e -f " + filepath.Join(s.Dir, "sshd_config")
	argv := []string{"unshare", "--mount", "--propagation", "private", "sh", "-c", script}
	logf, err := os.Create(filepath.Join(s.Dir, fmt.Sprintf("sshd-%d.log", s.gen)))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	s.done = make(chan struct{})
	if s.opts.Lab != nil {
		cmd := s.opts.Lab.Command(context.Background(), s.opts.Namespace, argv...)
		cmd.Stdout, cmd.Stderr = logf, logf
		p, err := s.opts.Lab.Start(cmd)
		if err != nil {
			t.Fatalf("start sshd: %v", err)
		}
		s.proc, s.cmd = p, cmd
		done := s.done
		go func() { <-p.Done(); close(done) }()
	} else {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start sshd: %v", err)
		}
		s.cmd = cmd
		done := s.done
		go func() { _ = cmd.Wait(); close(done) }()
	}
	// Ready when it accepts a connection and says hello.
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-s.done:
			t.Fatalf("sshd exited at start:\n%s", s.Log())
		default:
		}
		c, err := s.Dial(context.Background(), "tcp", s.Addr.String())
		if err == nil {
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			buf := make([]byte, 4)
			_, rerr := c.Read(buf)
			c.Close()
			if rerr == nil && string(buf) == "SSH-" {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd not accepting on %s: %v\n%s", s.Addr, err, s.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) stop(t testing.TB) {
	t.Helper()
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	if s.proc != nil {
		if err := s.proc.Stop(); err != nil {
			t.Errorf("stop sshd: %v", err)
		}
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// Restart stops sshd and starts it again with new host keys: the same
// address now shows another key, as after a reinstall or to an attacker.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.stop(t)
	s.newHostKeys(t)
	s.start(t)
}

// Stop stops the server for good (an unreachable satellite).
func (s *Server) Stop(t testing.TB) { s.stop(t) }

// Dial opens a TCP connection from where the server's clients are: the
// lab namespace, or this process.
func (s *Server) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	return DialFrom(s.opts.Lab, s.opts.Namespace)(ctx, network, addr)
}

// DialFrom returns a dial function whose sockets are opened inside
// namespace ns of l (nil l: this process's own).
func DialFrom(l *lab.Lab, ns string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if l == nil {
		return (&net.Dialer{}).DialContext
	}
	return l.DialFrom(ns)
}

// Log is what sshd wrote so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, fmt.Sprintf("sshd-%d.log", s.gen)))
	return string(b)
}

func pemEncode(b *pem.Block) []byte { return pem.EncodeToMemory(b) }
