package lab

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"
)

// Command returns a command that runs argv inside namespace ns (through
// `ip netns exec`, which execs argv in place: the command's PID and rusage
// are argv's own). The caller owns the command; use Start for a process
// the lab should end on Close.
func (l *Lab) Command(ctx context.Context, ns string, argv ...string) *exec.Cmd {
	args := append([]string{"netns", "exec", ns}, argv...)
	return exec.CommandContext(ctx, l.tools.ip, args...)
}

// Exec runs argv inside namespace ns to completion and returns its standard
// output. A failure carries its standard error.
func (l *Lab) Exec(ctx context.Context, ns string, argv ...string) ([]byte, error) {
	if len(argv) == 0 {
		return nil, errors.New("exec: empty command")
	}
	args := append([]string{l.tools.ip, "netns", "exec", ns}, argv...)
	out, err := run(ctx, "", args...)
	if err != nil {
		return out, fmt.Errorf("run %s in %s: %w", argv[0], ns, err)
	}
	return out, nil
}

// Process is a background process started by Start.
type Process struct {
	Cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Start starts cmd (from Command) in the background and ends it when the
// lab closes, if it has not ended by then.
func (l *Lab) Start(cmd *exec.Cmd) (*Process, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, errClosed
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	p := &Process{Cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	l.procs = append(l.procs, p)
	if start, err := procStart(cmd.Process.Pid); err == nil {
		l.rec.Processes = append(l.rec.Processes, owner{PID: cmd.Process.Pid, Start: start})
		_ = writeRecord(l.ID, l.rec)
	}
	return p, nil
}

// Wait waits for the process to exit and returns what exec.Cmd.Wait did.
func (p *Process) Wait() error {
	<-p.done
	return p.err
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Stop ends the process by its PID: SIGTERM, then SIGKILL if it is still
// there after a grace period. An exit caused by the signal is not an error.
func (p *Process) Stop() error {
	select {
	case <-p.done:
		return nil
	default:
	}
	pid := p.Cmd.Process.Pid
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(3 * time.Second):
	}
	if err := p.Cmd.Process.Kill(); err != nil && !errors.Is(err, errProcessDone) {
		return fmt.Errorf("kill process %d: %w", pid, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("process %d did not exit after SIGKILL", pid)
	}
}
