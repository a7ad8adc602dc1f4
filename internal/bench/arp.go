package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lanscout/lanscout/internal/lab"
)

// arpConfig is the ARP section's share of the command line.
type arpConfig struct {
	fastRate int // lanscout's --rate for the labelled fast /16 run
	skip16   bool
}

// arpSection compares ARP sweeps: lanscout against arp-scan (default and
// tuned) and nmap, on a /24 of real hosts with and without loss, and on a
// /16 whose upper half one AnyIP responder answers.
func arpSection() section {
	cfg := &arpConfig{}
	return section{
		name: "arp",
		flags: func(fs *flag.FlagSet) {
			fs.IntVar(&cfg.fastRate, "arp-fast-rate", 10000, "lanscout --rate for the labelled fast /16 run")
			fs.BoolVar(&cfg.skip16, "arp-skip-16", false, "skip the /16 scenario (it takes about half an hour)")
		},
		run: func(ctx context.Context, e *env) (string, error) { return runARP(ctx, e, cfg) },
	}
}

// arpScenario is one target and loss setting, swept by every tool.
type arpScenario struct {
	title  string
	target netip.Prefix
	loss   float64
	tools  []arpTool
	truth  truth
	notes  []string
}

type arpTool struct {
	tool
	baseline bool // arp-scan with its defaults: what the ratios divide by
	lanscout bool
}

func arpScanDefault() arpTool {
	return arpTool{baseline: true, tool: tool{
		label: "arp-scan (default)",
		argv: func(iface string, target netip.Prefix) []string {
			return []string{"arp-scan", "-I", iface, target.String()}
		},
		parse: parseArpScan,
	}}
}

func arpScanTuned() arpTool {
	return arpTool{tool: tool{
		label: "arp-scan (--bandwidth 10M --retry 1 --timeout 100)",
		argv: func(iface string, target netip.Prefix) []string {
			return []string{"arp-scan", "-I", iface, "--bandwidth", "10M", "--retry", "1", "--timeout", "100", target.String()}
		},
		parse: parseArpScan,
	}}
}

func nmapARP(extra ...string) arpTool {
	label := "nmap -sn -PR -n"
	if len(extra) > 0 {
		label += " " + strings.Join(extra, " ")
	}
	return arpTool{tool: tool{
		label: label,
		argv: func(_ string, target netip.Prefix) []string {
			argv := append([]string{"nmap", "-sn", "-PR", "-n"}, extra...)
			return append(argv, target.String())
		},
		parse: parseNmap,
	}}
}

func lanscoutARP(bin string, rate int) arpTool {
	label := "lanscout (default rate)"
	if rate > 0 {
		label = fmt.Sprintf("lanscout --rate %d", rate)
	}
	return arpTool{lanscout: true, tool: tool{
		label: label,
		argv: func(iface string, target netip.Prefix) []string {
			// --no-dns: the peers resolve no names either (nmap is given -n).
			argv := []string{bin, "scan", "--method", "arp", "--iface", iface, "--no-snmp", "--no-dns", "--format", "json"}
			if rate > 0 {
				argv = append(argv, "--rate", strconv.Itoa(rate))
			}
			return append(argv, target.String())
		},
		parse:  parseLanscout,
		detail: lanscoutDetail,
	}}
}

func runARP(ctx context.Context, e *env, cfg *arpConfig) (string, error) {
	l, err := lab.New(ctx, lab.Config{AnyIP: true, Logger: e.logger})
	if err != nil {
		return "", fmt.Errorf("build the lab: %w", err)
	}
	defer func() {
		if err := l.Close(); err != nil {
			e.logger.Error("tear down the lab", "err", err)
		}
	}()

	hosts24 := netip.PrefixFrom(l.Hosts[0].IP, 24).Masked()
	t24 := truth{}
	for _, h := range l.Hosts {
		t24[h.IP] = h.MAC.String()
	}
	t16 := truth{}
	for ip, mac := range t24 {
		t16[ip] = mac
	}
	r := l.Responder
	t16[r.Addr.Addr()] = r.MAC.String()
	last := lastAddr(l.Prefix)
	for ip := r.Range.Addr(); r.Range.Contains(ip); ip = ip.Next() {
		// The /16's broadcast address is routed as broadcast, not local:
		// nobody answers ARP for it.
		if ip != last {
			t16[ip] = r.MAC.String()
		}
	}

	peers24 := []arpTool{arpScanDefault(), arpScanTuned(), nmapARP()}
	scenarios := []arpScenario{
		{
			title: fmt.Sprintf("/24, %d hosts, no loss", len(l.Hosts)), target: hosts24, truth: t24,
			tools: append(peers24, lanscoutARP(e.lanscout, 0)),
		},
		{
			title: fmt.Sprintf("/24, %d hosts, 1%% loss each way", len(l.Hosts)), target: hosts24, truth: t24, loss: 1,
			tools: append(peers24, lanscoutARP(e.lanscout, 0)),
		},
	}
	if !cfg.skip16 {
		scenarios = append(scenarios, arpScenario{
			title:  fmt.Sprintf("/16, %d responders (%d hosts + an AnyIP /17), no loss", len(t16), len(l.Hosts)),
			target: l.Prefix, truth: t16,
			tools: []arpTool{
				arpScanDefault(), arpScanTuned(),
				// nmap's default pacing on a /16 takes many minutes; LAB.md
				// measured it with --min-rate 5000.
				nmapARP("--min-rate", "5000"),
				lanscoutARP(e.lanscout, 0),
				lanscoutARP(e.lanscout, cfg.fastRate),
			},
			notes: []string{
				fmt.Sprintf("lanscout --rate %d is a second, labelled lanscout run at a higher probe rate than its default.", cfg.fastRate),
				"Every ARP request is a broadcast that the lab's bridge copies to every port (the 254 host veths, the responder): " +
					"the sender pays for that copying in system time (the CPU column), which bounds how many requests per second " +
					"any tool gets through this lab whatever rate it asks for. arp-scan tuned sends one request per address (--retry 1); " +
					"arp-scan default asks again, up to twice, the ~32,500 addresses that did not answer; lanscout first re-asks up to 1,024 responders by unicast and retries the silent addresses only if one of those answers is lost (see its loss_probes and retries_skipped).",
			},
		})
	}

	var b strings.Builder
	b.WriteString("## ARP sweeps\n\n")
	fmt.Fprintf(&b, "Lab: LAN %s, scanner `%s` (%s). Hosts %s (each its own veth and MAC); AnyIP responder %s answering for %s.\n\n",
		l.Prefix, l.Scanner.Interface, l.Scanner.Addr, hosts24, r.Addr.Addr(), r.Range)
	b.WriteString("Commands (in the scanner's namespace; IF is its interface):\n\n")
	seen := map[string]bool{}
	for _, sc := range scenarios {
		for _, t := range sc.tools {
			cmd := strings.Join(t.argv("IF", sc.target), " ")
			cmd = strings.Replace(cmd, e.lanscout, "lanscout", 1)
			cmd = strings.Replace(cmd, sc.target.String(), "TARGET", 1)
			if !seen[cmd] {
				seen[cmd] = true
				fmt.Fprintf(&b, "- %s: `%s`\n", t.label, cmd)
			}
		}
	}
	b.WriteString("\n")

	results := make([][]summary, len(scenarios))
	for i, sc := range scenarios {
		e.logger.Info("scenario", "title", sc.title, "tools", len(sc.tools), "runs", e.runs)
		sums, dropped, err := runScenario(ctx, e, l, sc)
		if err != nil {
			return "", err
		}
		results[i] = sums
		fmt.Fprintf(&b, "### %s\n\n", sc.title)
		writeTable(&b, sc, sums)
		if sc.loss > 0 {
			fmt.Fprintf(&b, "\nFrames dropped by the loss rules over all runs: %d from the scanner, %d to it.\n", dropped[0], dropped[1])
		}
		for j, t := range sc.tools {
			if d := sums[j].details; len(d) > 0 {
				fmt.Fprintf(&b, "\n%s, as it reports each run: %s.\n", t.label, strings.Join(d, "; "))
			}
		}
		for _, n := range sc.notes {
			fmt.Fprintf(&b, "\n%s\n", n)
		}
		b.WriteString("\n")
	}
	writeTargets(&b, scenarios, results)
	return b.String(), nil
}

// runScenario runs every tool e.runs times, interleaved so that drift in
// the machine's load spreads over all of them.
func runScenario(ctx context.Context, e *env, l *lab.Lab, sc arpScenario) ([]summary, [2]uint64, error) {
	var dropped [2]uint64
	if err := l.SetLoss(ctx, sc.loss); err != nil {
		return nil, dropped, err
	}
	ms := make([][]measurement, len(sc.tools))
	for run := 0; run < e.runs; run++ {
		for i, t := range sc.tools {
			if err := ctx.Err(); err != nil {
				return nil, dropped, err
			}
			m := measure(ctx, e, l, t.tool, sc.target, sc.truth)
			if m.err != nil {
				e.logger.Warn("run failed", "tool", t.label, "err", m.err)
			} else {
				e.logger.Info("run", "scenario", sc.title, "tool", t.label, "run", run+1,
					"wall", m.wall.Round(time.Millisecond), "found", m.found, "of", len(sc.truth), "extra", m.extra,
					"rss_mb", fmt.Sprintf("%.1f", float64(m.maxRSS)/1e6))
			}
			ms[i] = append(ms[i], m)
			// Let the lab drain (backlogs, neighbour entries) between runs.
			time.Sleep(500 * time.Millisecond)
		}
	}
	if sc.loss > 0 {
		in, out, err := l.Dropped(ctx)
		if err != nil {
			return nil, dropped, err
		}
		dropped = [2]uint64{in, out}
	}
	if err := l.SetLoss(ctx, 0); err != nil {
		return nil, dropped, err
	}
	sums := make([]summary, len(sc.tools))
	for i := range ms {
		sums[i] = summarize(ms[i])
	}
	return sums, dropped, nil
}

func baselineOf(sc arpScenario, sums []summary) (summary, bool) {
	for i, t := range sc.tools {
		if t.baseline && sums[i].runs > sums[i].failed {
			return sums[i], true
		}
	}
	return summary{}, false
}

func writeTable(b *strings.Builder, sc arpScenario, sums []summary) {
	base, haveBase := baselineOf(sc, sums)
	n := len(sc.truth)
	b.WriteString("| tool | wall time (median) | min–max | found (median) | min–max | recall | extra | peak RSS (median / max) | CPU user+sys (median) | wall vs arp-scan default |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for i, t := range sc.tools {
		s := sums[i]
		if s.runs == s.failed {
			fmt.Fprintf(b, "| %s | failed (%d/%d runs): %s | | | | | | | | |\n", t.label, s.failed, s.runs, oneLine(s.firstErr))
			continue
		}
		ratio := "–"
		if haveBase && base.wall > 0 {
			ratio = fmt.Sprintf("%.3fx", s.wall.Seconds()/base.wall.Seconds())
		}
		label := t.label
		if t.lanscout {
			label = "**" + label + "**"
		}
		extra := strconv.Itoa(s.extra)
		if s.badMAC > 0 {
			extra += fmt.Sprintf(" (+%d wrong MAC)", s.badMAC)
		}
		failed := ""
		if s.failed > 0 {
			failed = fmt.Sprintf(" (%d of %d runs failed)", s.failed, s.runs)
		}
		fmt.Fprintf(b, "| %s%s | %s | %s–%s | %d/%d | %d–%d | %.2f%% | %s | %s / %s | %s | %s |\n",
			label, failed, seconds(s.wall), seconds(s.wallMin), seconds(s.wallMax),
			s.found, n, s.foundMin, s.foundMax, 100*float64(s.found)/float64(n), extra,
			mb(s.rss), mb(s.rssMax), seconds(s.cpu), ratio)
	}
}

// writeTargets states the goals set for the ARP sweep and whether the
// measurements meet them.
func writeTargets(b *strings.Builder, scenarios []arpScenario, results [][]summary) {
	b.WriteString("### Targets\n\n")
	verdict := func(ok bool) string {
		if ok {
			return "**PASS**"
		}
		return "**FALL SHORT**"
	}
	for i, sc := range scenarios {
		base, haveBase := baselineOf(sc, results[i])
		is24loss := sc.target.Bits() == 24 && sc.loss > 0
		is16 := sc.target.Bits() == 16
		if !is24loss && !is16 {
			continue
		}
		for j, t := range sc.tools {
			if !t.lanscout {
				continue
			}
			s := results[i][j]
			n := len(sc.truth)
			if s.runs == s.failed || !haveBase {
				fmt.Fprintf(b, "- %s, %s: **NOT MEASURED** (%s)\n", sc.title, t.label, oneLine(s.firstErr))
				continue
			}
			ratio := s.wall.Seconds() / base.wall.Seconds()
			switch {
			case is24loss:
				ok := s.failed == 0 && s.foundMin == n && ratio <= 0.25
				fmt.Fprintf(b, "- /24 with 1%% loss each way, fully found (%d/%d) in ≤ 0.25x arp-scan's default wall time — %s: %s found %d–%d/%d over %d runs, median %s vs arp-scan default %s = %.3fx.\n",
					n, n, verdict(ok), t.label, s.foundMin, s.foundMax, n, s.runs, seconds(s.wall), seconds(base.wall), ratio)
			case is16:
				ok := s.failed == 0 && s.found >= base.found && ratio <= 0.1 && s.rssMax < 100e6
				fmt.Fprintf(b, "- /16 at arp-scan's recall or better, in ≤ 0.1x its default wall time, peak memory < 100 MB — %s: %s found %d/%d (arp-scan default %d/%d), median %s vs %s = %.3fx, peak RSS %s.\n",
					verdict(ok), t.label, s.found, n, base.found, n, seconds(s.wall), seconds(base.wall), ratio, mb(s.rssMax))
			}
		}
		if is16 && haveBase {
			writeCapacity(b, sc, results[i], base)
		}
	}
	b.WriteString("\n")
}

// writeCapacity estimates how many broadcasts per second the lab carried,
// from the tuned arp-scan run (one request per address, --retry 1), and so
// the least time any sweep that asks every address once needs here.
func writeCapacity(b *strings.Builder, sc arpScenario, sums []summary, base summary) {
	for j, t := range sc.tools {
		if !strings.Contains(t.label, "--retry 1") || sums[j].runs == sums[j].failed {
			continue
		}
		addrs := 1 << (32 - sc.target.Bits())
		wall := sums[j].wall
		fps := float64(addrs) / wall.Seconds()
		fmt.Fprintf(b, "- Capacity of this lab: arp-scan tuned asks each of the %d addresses once in %s (median), "+
			"about %.0f broadcasts/s; at that pace one request per address already takes %.3fx arp-scan default's wall time, "+
			"and every retry of the addresses that never answer adds to it.\n",
			addrs, seconds(wall), fps, wall.Seconds()/base.wall.Seconds())
		return
	}
}

func oneLine(err error) string {
	if err == nil {
		return "no run"
	}
	return strings.ReplaceAll(err.Error(), "\n", " ")
}

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	host := 32 - p.Bits()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v |= 1<<host - 1
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// arp-scan prints one line per reply: address, MAC, vendor, tab-separated;
// duplicates carry "(DUP: n)".
var arpScanLine = regexp.MustCompile(`^(\d+\.\d+\.\d+\.\d+)\s+([0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5})`)

func parseArpScan(out []byte) (map[netip.Addr]string, error) {
	got := map[netip.Addr]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		m := arpScanLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		ip, err := netip.ParseAddr(m[1])
		if err != nil {
			return nil, err
		}
		if _, dup := got[ip]; !dup {
			got[ip] = strings.ToLower(m[2])
		}
	}
	return got, sc.Err()
}

var (
	nmapReport = regexp.MustCompile(`^Nmap scan report for (\d+\.\d+\.\d+\.\d+)`)
	nmapMAC    = regexp.MustCompile(`^MAC Address: ([0-9A-Fa-f:]{17})`)
)

func parseNmap(out []byte) (map[netip.Addr]string, error) {
	got := map[netip.Addr]string{}
	var cur netip.Addr
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := nmapReport.FindStringSubmatch(line); m != nil {
			ip, err := netip.ParseAddr(m[1])
			if err != nil {
				return nil, err
			}
			cur = ip
			got[ip] = ""
			continue
		}
		if m := nmapMAC.FindStringSubmatch(line); m != nil && cur.IsValid() {
			got[cur] = strings.ToLower(m[1])
		}
	}
	if !strings.Contains(string(out), "Nmap done") {
		return nil, fmt.Errorf("no \"Nmap done\" line: output truncated?")
	}
	return got, sc.Err()
}

// lanscoutDetail gives the sweep's own account of a run: the probes it
// sent (first pass and retries) and the time it spent sweeping.
func lanscoutDetail(out []byte) string {
	var r struct {
		Stats struct {
			ProbesSent  int   `json:"probes_sent"`
			SweepPasses int   `json:"sweep_passes"`
			SweepMS     int64 `json:"sweep_ms"`
		} `json:"stats"`
	}
	if json.Unmarshal(out, &r) != nil {
		return ""
	}
	return fmt.Sprintf("%d probes in %d passes, sweep %.2f s", r.Stats.ProbesSent, r.Stats.SweepPasses, float64(r.Stats.SweepMS)/1000)
}

func parseLanscout(out []byte) (map[netip.Addr]string, error) {
	var r struct {
		Devices []struct {
			IP  string `json:"ip"`
			MAC string `json:"mac"`
		} `json:"devices"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, err
	}
	got := make(map[netip.Addr]string, len(r.Devices))
	for _, d := range r.Devices {
		ip, err := netip.ParseAddr(d.IP)
		if err != nil {
			return nil, fmt.Errorf("device address %q: %w", d.IP, err)
		}
		got[ip] = strings.ToLower(d.MAC)
	}
	return got, nil
}
