package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// netnsDir is where iproute2 keeps the bind mounts naming namespaces.
const netnsDir = "/run/netns"

// inNetns runs fn on a thread that has joined the named network namespace.
// Sockets and /proc/sys/net files opened by fn belong to that namespace.
func inNetns(ns string, fn func() error) error {
	f, err := os.Open(filepath.Join(netnsDir, ns))
	if err != nil {
		return fmt.Errorf("open namespace %s: %w", ns, err)
	}
	defer f.Close()

	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread: this thread now lives in another namespace and
		// must not go back to the scheduler's pool, so it exits with the
		// goroutine.
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("enter namespace %s: %w", ns, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// sysctl is one /proc/sys/net setting, by its dotted name.
type sysctl struct{ key, value string }

func sysctlPath(key string) string {
	return filepath.Join("/proc/sys", strings.ReplaceAll(key, ".", "/"))
}

// setSysctls writes settings inside the namespace ns.
func setSysctls(ns string, settings []sysctl) error {
	return inNetns(ns, func() error {
		for _, s := range settings {
			if err := os.WriteFile(sysctlPath(s.key), []byte(s.value), 0o644); err != nil {
				return fmt.Errorf("set %s=%s in %s: %w", s.key, s.value, ns, err)
			}
		}
		return nil
	})
}

// tools are the paths of the programs a lab drives.
type tools struct{ ip, nft string }

// findTool looks in PATH, then in the sbin directories a non-login root
// shell may lack in PATH.
func findTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w", name, exec.ErrNotFound)
}

// run runs argv and returns its standard output; a failure carries the
// command's standard error, which is where ip and nft explain themselves.
func run(ctx context.Context, stdin string, argv ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			return stdout.Bytes(), err
		}
		return stdout.Bytes(), fmt.Errorf("%w: %s", err, msg)
	}
	return stdout.Bytes(), nil
}

// batch accumulates ip commands for one `ip -batch` run: one process for
// hundreds of links instead of one each.
type batch struct{ lines []string }

func (b *batch) add(format string, args ...any) {
	b.lines = append(b.lines, fmt.Sprintf(format, args...))
}

func (b *batch) String() string { return strings.Join(b.lines, "\n") + "\n" }

var errClosed = errors.New("lab is closed")
