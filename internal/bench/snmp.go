package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/lanscout/lanscout/internal/snmptest"
)

// snmpConfig is the SNMP section's share of the command line.
type snmpConfig struct {
	walkFile string // the recording walked in full
	skipScan bool
}

// snmpSection compares SNMP work against net-snmp on loopback, with
// snmpsimd replaying the development corpus: a full bulk walk of the
// largest recording (lanscout snmp walk against snmpbulkwalk at the same
// max-repetitions), and a scan of every recording, one per address.
//
// It needs no lab: every address in 127.0.0.0/8 is local, so snmpsimd
// gives one device per loopback address (internal/snmptest).
func snmpSection() section {
	cfg := &snmpConfig{}
	return section{
		name: "snmp",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&cfg.walkFile, "snmp-walk-file", "fs-bdcom_s3400-48t4sp.snmprec", "corpus recording walked in full by the SNMP section")
			fs.BoolVar(&cfg.skipScan, "snmp-skip-scan", false, "skip the SNMP scan of every corpus recording")
		},
		run: func(ctx context.Context, e *env) (string, error) { return runSNMPBench(ctx, e, cfg) },
	}
}

// snmpRun is one run of one command.
type snmpRun struct {
	wall   time.Duration
	cpu    time.Duration // user + system of the client
	maxRSS int64
	count  int // variables walked or devices found
	err    error
}

// snmpCommand is one tool as a command line and a counter of its output.
type snmpCommand struct {
	label string
	argv  []string
	env   func() []string // extra environment per run (nil: none)
	count func(stdout []byte) (int, error)
}

func runSNMPBench(ctx context.Context, e *env, cfg *snmpConfig) (md string, err error) {
	tb := &benchTB{e: e}
	defer tb.close()
	defer func() {
		if r := recover(); r != nil {
			abort, ok := r.(benchAbort)
			if !ok {
				panic(r)
			}
			err = abort.err
		}
	}()
	corpus, ferr := snmptest.FindCorpus()
	if ferr != nil {
		return "", ferr
	}
	var b strings.Builder
	b.WriteString(`## SNMP

Agents: Debian ` + "`snmpsimd`" + ` 0.4.5 replaying recordings of the development corpus
(shared/corpus/dev, from LibreNMS), one device per loopback address (` + "`--v2c-arch`" + `,
community ` + "`public`" + `), started by internal/snmptest. Every tool runs on the host
against the same agent process, one after the other, runs interleaved; one
unmeasured warm-up run of each tool comes first. snmpsimd itself (Python) is
most of the time: both clients wait on it.

`)
	walk, err := snmpWalkBench(ctx, e, tb, filepath.Join(corpus, "snmprec", cfg.walkFile))
	if err != nil {
		return "", err
	}
	b.WriteString(walk)
	if !cfg.skipScan {
		scan, err := snmpScanBench(ctx, e, tb, corpus)
		if err != nil {
			return "", err
		}
		b.WriteString(scan)
	}
	return b.String(), nil
}

// countBulkwalk counts the variables snmpbulkwalk -On printed: multi-line
// strings span several lines, and it prints the endOfMibView exceptions
// of the last response, which are no variables.
func countBulkwalk(out []byte) (int, error) {
	n := 0
	for _, line := range bulkwalkLine.FindAll(out, -1) {
		if !bytes.Contains(line, []byte("No more variables left")) {
			n++
		}
	}
	return n, nil
}

var bulkwalkLine = regexp.MustCompile(`(?m)^\.1\.3\.6\.1(\.[0-9]+)* = .*$`)

func snmpWalkBench(ctx context.Context, e *env, tb *benchTB, file string) (string, error) {
	sim := snmptest.StartSim(tb, []string{file}, snmptest.SimOptions{})
	target := sim.Devices[0].Addr.String()
	lines := func(out []byte) (int, error) { return bytes.Count(out, []byte("\n")), nil }
	tools := []snmpCommand{
		{
			label: "snmpbulkwalk -v2c -Cr10 -On",
			argv:  []string{"snmpbulkwalk", "-v2c", "-c", sim.Community, "-Cr10", "-On", target, "1.3.6.1"},
			count: countBulkwalk,
		},
		{
			label: "lanscout snmp walk --max-repetitions 10",
			argv:  []string{e.lanscout, "snmp", "walk", "--community", sim.Community, "--max-repetitions", "10", target, "1.3.6.1"},
			count: lines,
		},
	}
	sums, err := runInterleaved(ctx, e, tools)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "### Full bulk walk of %s\n\n", filepath.Base(file))
	b.WriteString("Walk of 1.3.6.1, GETBULK with max-repetitions 10 for both, one OID per request.\n\n")
	b.WriteString("| tool | median wall | min – max | variables | client CPU | peak RSS | failed runs |\n|---|---|---|---|---|---|---|\n")
	for i, t := range tools {
		s := sums[i]
		fmt.Fprintf(&b, "| %s | %s | %s – %s | %s | %s | %.1f MiB | %d/%d |\n", t.label, seconds(s.wall), seconds(s.wallMin), seconds(s.wallMax),
			countRange(s), seconds(s.cpu), float64(s.rss)/(1<<20), s.failed, s.runs)
	}
	b.WriteString("\n")
	if sums[0].wall > 0 && sums[1].wall > 0 {
		fmt.Fprintf(&b, "Ratio lanscout / snmpbulkwalk (median wall): **%.2f** (target ≤ 1.00).\n\n", float64(sums[1].wall)/float64(sums[0].wall))
	}
	writeFailures(&b, tools, sums)
	return b.String(), nil
}

func snmpScanBench(ctx context.Context, e *env, tb *benchTB, corpus string) (string, error) {
	files, err := filepath.Glob(filepath.Join(corpus, "snmprec", "*.snmprec"))
	if err != nil || len(files) == 0 {
		return "", fmt.Errorf("no recordings in %s: %v", corpus, err)
	}
	slices.Sort(files)
	files = files[:min(len(files), 254)]
	sim := snmptest.StartSim(tb, files, snmptest.SimOptions{})
	port := sim.Devices[0].Addr.Port()
	stateRoot, err := os.MkdirTemp("", "lanscout-bench-state-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(stateRoot)
	run := 0
	tools := []snmpCommand{{
		label: "lanscout scan --method snmp",
		argv: []string{e.lanscout, "scan", "--method", "snmp", "--snmp-port", fmt.Sprint(port), "--community", sim.Community,
			"--no-dns", "--format", "json", sim.Prefix.String()},
		// A fresh state directory per run: no credential is remembered.
		env: func() []string {
			run++
			return []string{"LANSCOUT_STATE=" + filepath.Join(stateRoot, fmt.Sprint(run))}
		},
		count: countScanDevices,
	}}
	sums, err := runInterleaved(ctx, e, tools)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "### Scan of all %d development recordings\n\n", len(files))
	fmt.Fprintf(&b, "`%s` with the %d devices at the first addresses of a /24 on loopback (the other %d addresses have no agent: the kernel answers ICMP port unreachable). The default evidence plan is gathered from every device and classified.\n\n",
		strings.Join(append([]string{"lanscout"}, tools[0].argv[1:]...), " "), len(files), 254-len(files))
	b.WriteString("| tool | median wall | min – max | devices found | devices/s (median) | client CPU | peak RSS | failed runs |\n|---|---|---|---|---|---|---|---|\n")
	s := sums[0]
	rate := "–"
	if s.wall > 0 {
		rate = fmt.Sprintf("%.1f", float64(s.found)/s.wall.Seconds())
	}
	fmt.Fprintf(&b, "| %s | %s | %s – %s | %s of %d | %s | %s | %.1f MiB | %d/%d |\n", tools[0].label, seconds(s.wall), seconds(s.wallMin), seconds(s.wallMax),
		countRange(s), len(files), rate, seconds(s.cpu), float64(s.rss)/(1<<20), s.failed, s.runs)
	b.WriteString("\n")
	writeFailures(&b, tools, sums)
	return b.String(), nil
}

// countScanDevices counts devices in a lanscout scan JSON report that
// answered SNMP.
func countScanDevices(out []byte) (int, error) {
	var r struct {
		Devices []struct {
			SNMP *json.RawMessage `json:"snmp"`
		} `json:"devices"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return 0, err
	}
	n := 0
	for _, d := range r.Devices {
		if d.SNMP != nil && string(*d.SNMP) != "null" {
			n++
		}
	}
	return n, nil
}

// runInterleaved runs one warm-up of every tool, then e.runs rounds of
// every tool in turn, and summarizes each tool's rounds.
func runInterleaved(ctx context.Context, e *env, tools []snmpCommand) ([]summary, error) {
	for _, t := range tools {
		if r := runSNMPCommand(ctx, e, t); r.err != nil {
			e.logger.Warn("warm-up run failed", "tool", t.label, "err", r.err)
		}
	}
	runs := make([][]measurement, len(tools))
	for range e.runs {
		for i, t := range tools {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			r := runSNMPCommand(ctx, e, t)
			// measurement.found carries the count so summarize's medians apply.
			runs[i] = append(runs[i], measurement{wall: r.wall, maxRSS: r.maxRSS, cpu: r.cpu, found: r.count, err: r.err})
			e.logger.Debug("run", "tool", t.label, "wall", r.wall, "count", r.count, "err", r.err)
		}
	}
	sums := make([]summary, len(tools))
	for i := range tools {
		sums[i] = summarize(runs[i])
	}
	return sums, nil
}

func runSNMPCommand(ctx context.Context, e *env, t snmpCommand) snmpRun {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, t.argv[0], t.argv[1:]...)
	cmd.Env = os.Environ()
	if t.env != nil {
		cmd.Env = append(cmd.Env, t.env()...)
	}
	var stdout, stderr bytes.Buffer
	run, err := runTimed(ctx, e, cmd, &stdout, &stderr)
	r := snmpRun{wall: run.wall, maxRSS: run.maxRSS, cpu: run.cpu}
	if err != nil {
		r.err = fmt.Errorf("%s: %w: %s", strings.Join(t.argv, " "), err, lastLine(stderr.String()))
		return r
	}
	if r.count, err = t.count(stdout.Bytes()); err != nil {
		r.err = fmt.Errorf("%s: parse output: %w", t.label, err)
	}
	return r
}

func countRange(s summary) string {
	if s.runs == s.failed {
		return "–"
	}
	if s.foundMin == s.foundMax {
		return fmt.Sprint(s.found)
	}
	return fmt.Sprintf("%d (%d – %d)", s.found, s.foundMin, s.foundMax)
}

func writeFailures(b *strings.Builder, tools []snmpCommand, sums []summary) {
	for i, s := range sums {
		if s.firstErr != nil {
			fmt.Fprintf(b, "- %s failed %d of %d runs; first error: `%s`\n", tools[i].label, s.failed, s.runs, strings.ReplaceAll(s.firstErr.Error(), "`", "'"))
		}
	}
	b.WriteString("\n")
}

// benchTB lets internal/snmptest start agents outside a test: Fatalf and
// Skipf abort the section with an error, and cleanups (stopping the agents
// by PID) run when the section ends.
type benchTB struct {
	e        *env
	cleanups []func()
}

type benchAbort struct{ err error }

func (t *benchTB) Helper()                         {}
func (t *benchTB) Logf(format string, args ...any) { t.e.logger.Debug(fmt.Sprintf(format, args...)) }
func (t *benchTB) Skipf(format string, args ...any) {
	panic(benchAbort{fmt.Errorf("cannot run: "+format, args...)})
}
func (t *benchTB) Fatalf(format string, args ...any) { panic(benchAbort{fmt.Errorf(format, args...)}) }
func (t *benchTB) Cleanup(f func())                  { t.cleanups = append(t.cleanups, f) }

func (t *benchTB) close() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
	t.cleanups = nil
}

var _ snmptest.TB = (*benchTB)(nil)
