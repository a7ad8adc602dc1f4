package main

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/lanscout/lanscout/internal/lab"
)

// tool is one way of sweeping, as a command line and a parser of its
// output.
type tool struct {
	label string // as shown in the tables
	// argv is the command, run in the scanner's namespace.
	argv func(iface string, target netip.Prefix) []string
	// parse returns the addresses the tool reports, with their MACs in
	// lower case ("" when the tool gives none).
	parse func(stdout []byte) (map[netip.Addr]string, error)
	// detail, when set, extracts what the tool says about its own run
	// (probes sent, time spent sweeping) for the report's notes.
	detail func(stdout []byte) string
}

// measurement is one run of one tool.
type measurement struct {
	wall   time.Duration
	maxRSS int64         // bytes
	cpu    time.Duration // user + system: in this lab, flooding each broadcast to every veth port is system time of the sender
	found  int           // addresses reported that the lab has
	extra  int           // addresses reported that the lab does not have
	badMAC int           // addresses reported with a MAC the lab does not give them
	detail string
	err    error
}

// truth is what the lab really has in a target: address to MAC.
type truth map[netip.Addr]string

// measure runs t once inside the lab's scanner namespace and scores its
// output against want.
func measure(ctx context.Context, e *env, l *lab.Lab, t tool, target netip.Prefix, want truth) measurement {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	argv := t.argv(l.Scanner.Interface, target)
	inner := l.Command(ctx, l.Scanner.Namespace, argv...)
	var stdout, stderr bytes.Buffer
	run, err := runTimed(ctx, e, inner, &stdout, &stderr)
	m := measurement{wall: run.wall, maxRSS: run.maxRSS, cpu: run.cpu}
	if err != nil {
		m.err = fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, lastLine(stderr.String()))
		return m
	}
	got, err := t.parse(stdout.Bytes())
	if err != nil {
		m.err = fmt.Errorf("parse %s output: %w", t.label, err)
		return m
	}
	if t.detail != nil {
		m.detail = t.detail(stdout.Bytes())
	}
	self := l.Scanner.Addr.Addr()
	for ip, mac := range got {
		switch wmac, ok := want[ip]; {
		case ip == self:
			// nmap lists the scanning host itself; it is no finding.
		case !ok:
			m.extra++
		default:
			m.found++
			if mac != "" && mac != wmac {
				m.badMAC++
			}
		}
	}
	e.logger.Debug("run", "tool", t.label, "target", target, "wall", m.wall, "found", m.found,
		"of", len(want), "extra", m.extra, "rss_mib", m.maxRSS>>20)
	return m
}

// timedRun is what one child process cost.
type timedRun struct {
	wall   time.Duration
	maxRSS int64
	cpu    time.Duration // user + system
}

// runTimed runs inner under GNU time. Go starts children with vfork: until
// exec the child shares this process's memory, and Linux carries that
// memory's high-water mark into the child's ru_maxrss. GNU time forks
// properly and reports the tool's own peak, so the bench's memory does not
// leak into the column.
func runTimed(ctx context.Context, e *env, inner *exec.Cmd, stdout, stderr *bytes.Buffer) (timedRun, error) {
	usage, err := os.CreateTemp("", "bench-rusage-*")
	if err != nil {
		return timedRun{}, fmt.Errorf("create rusage file: %w", err)
	}
	usage.Close()
	defer os.Remove(usage.Name())
	cmd := exec.CommandContext(ctx, e.timeBin, append([]string{"-f", "%M %U %S", "-o", usage.Name(), inner.Path}, inner.Args[1:]...)...)
	cmd.Env = inner.Env
	// On timeout, end time and the tool it runs: the group is our child's.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.Stdout, cmd.Stderr = stdout, stderr
	start := time.Now()
	err = cmd.Run()
	r := timedRun{wall: time.Since(start)}
	if rss, cpu, uerr := readUsage(usage.Name()); uerr == nil {
		r.maxRSS, r.cpu = rss, cpu
	} else if err == nil {
		err = uerr
	}
	return r, err
}

// readUsage parses GNU time's "-f '%M %U %S'" output: peak RSS in KiB,
// user and system seconds. A line about the exit status may come first.
func readUsage(path string) (rss int64, cpu time.Duration, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, fmt.Errorf("read rusage: %w", err)
	}
	var kib int64
	var user, sys float64
	if _, err := fmt.Sscan(lastLine(string(b)), &kib, &user, &sys); err != nil {
		return 0, 0, fmt.Errorf("parse rusage %q: %w", b, err)
	}
	return kib * 1024, time.Duration((user + sys) * float64(time.Second)), nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func commandOutput(ctx context.Context, argv ...string) (string, error) {
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	return string(out), err
}

// summary is the medians over one tool's runs in one scenario.
type summary struct {
	runs, failed       int
	wall               time.Duration // median
	wallMin, wallMax   time.Duration
	found              int // median
	foundMin, foundMax int
	extra, badMAC      int // worst run
	rss, rssMax        int64
	cpu                time.Duration // median
	firstErr           error
	details            []string // one per successful run, when the tool gives them
}

func summarize(ms []measurement) summary {
	var s summary
	var walls []time.Duration
	var found []int
	var rss []int64
	var cpu []time.Duration
	for _, m := range ms {
		s.runs++
		if m.err != nil {
			s.failed++
			if s.firstErr == nil {
				s.firstErr = m.err
			}
			continue
		}
		walls = append(walls, m.wall)
		found = append(found, m.found)
		rss = append(rss, m.maxRSS)
		cpu = append(cpu, m.cpu)
		if m.detail != "" {
			s.details = append(s.details, m.detail)
		}
		s.extra = max(s.extra, m.extra)
		s.badMAC = max(s.badMAC, m.badMAC)
	}
	if len(walls) == 0 {
		return s
	}
	slices.Sort(walls)
	slices.Sort(found)
	slices.Sort(rss)
	slices.Sort(cpu)
	s.cpu = median(cpu)
	s.wall, s.wallMin, s.wallMax = median(walls), walls[0], walls[len(walls)-1]
	s.found, s.foundMin, s.foundMax = median(found), found[0], found[len(found)-1]
	s.rss, s.rssMax = median(rss), rss[len(rss)-1]
	return s
}

// median of sorted values; the lower middle one for an even count, so it
// is always a value that was measured.
func median[T any](sorted []T) T { return sorted[(len(sorted)-1)/2] }

func seconds(d time.Duration) string {
	if d < 10*time.Second {
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}
