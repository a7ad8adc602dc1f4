// Command bench measures lanscout against the tools people would otherwise
// use, side by side in one network-namespace lab (internal/lab), and writes
// the results as Markdown (BENCHMARKS.md). `make bench` runs it; it needs
// root.
//
// The report is made of sections, one file each (arp.go, ...): a section
// builds the lab it needs, runs its scenarios and renders its Markdown. To
// add one, write a function returning a section and list it in sections.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/lanscout/lanscout/internal/lab"
)

// section is one part of the report.
type section struct {
	name string // for -sections
	// flags, when set, registers the section's own flags.
	flags func(fs *flag.FlagSet)
	// run measures and returns the section's Markdown, starting at a
	// level-2 heading.
	run func(ctx context.Context, e *env) (string, error)
}

// sections lists the report's sections in the order they are written.
func sections() []section {
	return []section{
		arpSection(),
		snmpSection(),
		inventorySection(),
		electionSection(),
		agentsSection(),
	}
}

// env is what every section gets from the command line.
type env struct {
	lanscout string        // absolute path of the binary under test
	timeBin  string        // GNU time, which measures a child's own peak RSS
	runs     int           // runs per tool and scenario
	timeout  time.Duration // longest a single run may take
	logger   *slog.Logger
}

func main() {
	var (
		lanscout = flag.String("lanscout", "bin/lanscout", "lanscout binary to measure")
		out      = flag.String("o", "BENCHMARKS.md", "write the report here")
		quick    = flag.Bool("quick", false, "one run per tool and scenario, for development")
		runs     = flag.Int("runs", 5, "runs per tool and scenario (medians are reported)")
		only     = flag.String("sections", "", "comma-separated sections to run (default: all)")
		update   = flag.Bool("update", false, "with -sections: replace only those sections in the existing report, keeping the others")
		timeout  = flag.Duration("run-timeout", 10*time.Minute, "longest a single run may take")
		verbose  = flag.Bool("v", false, "log each run")
		shell    = flag.Bool("lab-shell", false, "build the ARP section's lab, print how to reach it, and keep it until interrupted")
	)
	secs := sections()
	for _, s := range secs {
		if s.flags != nil {
			s.flags(flag.CommandLine)
		}
	}
	flag.Parse()
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *shell {
		if err := labShell(ctx, logger); err != nil {
			logger.Error("lab shell failed", "err", err)
			os.Exit(1)
		}
		return
	}
	if *update && *only == "" {
		logger.Error("-update needs -sections: it replaces the named sections of the report")
		os.Exit(2)
	}
	if err := run(ctx, logger, secs, *lanscout, *out, *quick, *runs, *only, *update, *timeout); err != nil {
		logger.Error("bench failed", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, logger *slog.Logger, secs []section, lanscout, out string, quick bool, runs int, only string, update bool, timeout time.Duration) error {
	if os.Geteuid() != 0 {
		return errors.New("the benchmark builds a network lab: run it as root")
	}
	abs, err := filepath.Abs(lanscout)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", lanscout, err)
	}
	if quick {
		runs = 1
	}
	if runs < 1 {
		return fmt.Errorf("-runs %d: want at least 1", runs)
	}
	timeBin, err := exec.LookPath("/usr/bin/time")
	if err != nil {
		return fmt.Errorf("the benchmark measures peak memory with GNU time (Debian package time): %w", err)
	}
	e := &env{lanscout: abs, timeBin: timeBin, runs: runs, timeout: timeout, logger: logger}

	want := map[string]bool{}
	for _, s := range strings.Split(only, ",") {
		if s = strings.TrimSpace(s); s != "" {
			want[s] = true
		}
	}
	// The report is its header and one chunk per section, each starting
	// with its "## " heading; -update starts from the chunks on disk.
	chunks := []string{header(ctx, e)}
	if update {
		old, err := os.ReadFile(out)
		if err != nil {
			return fmt.Errorf("-update: %w", err)
		}
		chunks = splitReport(string(old))
	}
	version := firstLine(outputOf(ctx, e.lanscout, "version"))
	for _, s := range secs {
		if len(want) > 0 && !want[s.name] {
			continue
		}
		logger.Info("running section", "section", s.name)
		load := loadAverage()
		md, err := s.run(ctx, e)
		if err != nil {
			return fmt.Errorf("section %s: %w", s.name, err)
		}
		md += fmt.Sprintf("Measured %s with %s. Load average (1, 5, 15 min) when the section started: %s; when it ended: %s.\n\n",
			time.Now().UTC().Format("2006-01-02 15:04 UTC"), version, load, loadAverage())
		chunks = replaceSection(chunks, md)
		// Write after each section: a later failure keeps what was measured.
		if err := os.WriteFile(out, []byte(strings.Join(chunks, "")), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", out, err)
		}
	}
	logger.Info("report written", "path", out)
	return nil
}

// splitReport cuts a report into its header (up to and including the
// method) and one chunk per section, each starting at its "## " heading.
func splitReport(report string) []string {
	lines := strings.SplitAfter(report, "\n")
	var chunks []string
	var cur strings.Builder
	for _, l := range lines {
		if strings.HasPrefix(l, "## ") && l != "## Method\n" && cur.Len() > 0 {
			chunks = append(chunks, cur.String())
			cur.Reset()
		}
		cur.WriteString(l)
	}
	if cur.Len() > 0 {
		chunks = append(chunks, cur.String())
	}
	return chunks
}

// replaceSection puts md in the place of the chunk with the same heading,
// or appends it.
func replaceSection(chunks []string, md string) []string {
	heading, _, _ := strings.Cut(md, "\n")
	for i, c := range chunks[1:] {
		if h, _, _ := strings.Cut(c, "\n"); h == heading {
			chunks[i+1] = md
			return chunks
		}
	}
	return append(chunks, md)
}

// labShell keeps a benchmark lab up for poking at by hand (running a tool
// with -v, tcpdump on the scanner's port) until the context ends.
func labShell(ctx context.Context, logger *slog.Logger) error {
	l, err := lab.New(ctx, lab.Config{AnyIP: true, Logger: logger})
	if err != nil {
		return err
	}
	defer l.Close()
	fmt.Printf("lab %s up: LAN %s, hosts %s-%s, AnyIP %s\n", l.ID, l.Prefix, l.Hosts[0].IP, l.Hosts[len(l.Hosts)-1].IP, l.Responder.Range)
	fmt.Printf("scanner: ip netns exec %s ... (interface %s, %s)\n", l.Scanner.Namespace, l.Scanner.Interface, l.Scanner.Addr)
	fmt.Printf("switch:  ip netns exec %s ...\n", l.Switch)
	fmt.Println("interrupt (Ctrl-C) to tear it down")
	<-ctx.Done()
	return nil
}

// loadAverage is /proc/loadavg's first three fields: other work on the
// machine skews wall times, so the report says how busy it was.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// header describes the machine and the method common to every section.
func header(ctx context.Context, e *env) string {
	var b strings.Builder
	b.WriteString("# Benchmarks\n\n")
	b.WriteString("Generated by `make bench` (`go run ./internal/bench`); do not edit by hand.\n\n")
	fmt.Fprintf(&b, "- Date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- Machine: %d CPUs (%s), kernel %s, %s\n", runtime.NumCPU(), cpuModel(), kernel(), memTotal())
	fmt.Fprintf(&b, "- lanscout: %s, built from `git describe --always --dirty` = %s\n",
		firstLine(outputOf(ctx, e.lanscout, "version")), firstLine(outputOf(ctx, "git", "describe", "--always", "--dirty")))
	fmt.Fprintf(&b, "- Peers: %s; %s\n", firstLine(outputOf(ctx, "arp-scan", "--version")), firstLine(outputOf(ctx, "nmap", "--version")))
	fmt.Fprintf(&b, "- Runs: %d per tool and scenario, interleaved (run 1 of every tool, then run 2, ...); tables give medians\n\n", e.runs)
	b.WriteString(`## Method

Every scenario runs in one lab built by internal/lab: network namespaces
joined by a Linux bridge, each host a veth with its own MAC, the scanner in
its own namespace. Every tool runs in the scanner's namespace through
` + "`ip netns exec`" + `, against the same lab, one after the other.

- Wall time: from starting the process to its exit.
- Recall: addresses found that the lab really has (the truth is the lab's
  own list of addresses), over how many it has. Extra: addresses reported
  that the lab does not have.
- Peak RSS and CPU: the tool's own ` + "`ru_maxrss`" + `, user and system time, read by
  GNU ` + "`time`" + ` (which forks the tool: Go's vfork would add the benchmark's own
  memory to the child's ` + "`ru_maxrss`" + `). The figure includes ` + "`ip netns exec`" + `,
  which execs the tool in place and peaks at about 2 MB.
- Loss: nftables on the scanner's switch port drops frames at random
  (` + "`numgen random mod 10000 < 100`" + ` = 1%) in each direction; the kernel
  here has no netem.

`)
	return b.String()
}

func outputOf(ctx context.Context, argv ...string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := commandOutput(ctx, argv...)
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	return strings.TrimSpace(out)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func kernel() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return "unknown"
	}
	var b strings.Builder
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b.WriteByte(byte(c))
	}
	return b.String()
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "memory unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			return fmt.Sprintf("%.1f GiB RAM", float64(kb)/(1<<20))
		}
	}
	return "memory unknown"
}
