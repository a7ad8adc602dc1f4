package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/lanscout/lanscout/discover"
	"github.com/lanscout/lanscout/scan"
	"github.com/lanscout/lanscout/snmp"
)

const scanUsage = `Usage: lanscout scan [flags] TARGET...

Sweeps TARGETs (CIDRs, addresses, ranges such as 10.0.0.10-10.0.0.50), asks
every responder over SNMP what it is, and prints the devices.

Examples:
  lanscout scan 192.168.1.0/24
  lanscout scan --method icmp --format json -o hosts.json 10.20.0.0/22 10.30.0.1-10.30.0.40
  lanscout scan --community public --snmp-v3 mon:sha256:AuthPass1:aes:PrivPass1 192.168.1.0/24
  lanscout scan --method snmp --community public --format json 10.0.10.0/24
  lanscout scan --format jsonl 10.0.10.0/24 | jq -c .device   # devices as they are found
  lanscout scan --passive 30s --iface eth0 192.168.1.0/24

Flags:
`

func runScan(ctx context.Context, e env, args []string) int {
	err := scanCommand(ctx, e, args)
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(e.stderr, "lanscout scan: interrupted; printed what was found so far")
		return 130
	}
	return exitCode(e.stderr, "scan", err)
}

func scanCommand(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprint(e.stderr, scanUsage); fs.PrintDefaults() }
	var (
		method      = fs.String("method", "auto", "liveness method: auto, arp, icmp, tcp or snmp (no liveness step)")
		iface       = fs.String("iface", "", "network interface for ARP and passive listening (default: chosen per target)")
		rate        = fs.Int("rate", 0, "probes per second (default: 2000 ARP, 500 ICMP, 2000 TCP connects)")
		retries     = fs.Int("retries", discover.DefaultRetries, "extra passes for addresses that did not answer")
		timeout     = fs.Duration("timeout", 0, "longest wait for a reply to a probe (default 500ms)")
		force       = fs.Bool("force", false, fmt.Sprintf("allow more than %d addresses", discover.MaxAddresses))
		noDNS       = fs.Bool("no-dns", false, "skip reverse DNS lookups")
		passive     = fs.Duration("passive", 0, "also listen for ARP and DHCP this long (needs --iface) and report hosts that never answered")
		format      = fs.String("format", "table", "output format: "+strings.Join(scan.Formats, ", "))
		outPath     = fs.String("o", "", "write the output to this file instead of standard output")
		noSNMP      = fs.Bool("no-snmp", false, "do not probe responders over SNMP")
		snmpTimeout = fs.Duration("snmp-timeout", time.Second, "SNMP timeout per request attempt")
		snmpRetries = fs.Int("snmp-retries", 1, "SNMP retries per request")
		snmpPort    = fs.Uint("snmp-port", 161, "SNMP UDP port")
		snmpWorkers = fs.Int("snmp-concurrency", scan.DefaultSNMPConcurrency, "devices probed over SNMP at once")
		rulesPath   = fs.String("rules", "", "YAML file of admin-defined device types (they win over built-in rules)")
		verbose     = fs.Bool("v", false, "log what the scan does to standard error")
		ports       = portList(slices.Clone(discover.DefaultTCPPorts))
	)
	fs.Var(&ports, "ports", "TCP ports probed by the tcp method, comma-separated")
	credentials := credentialFlags(fs)
	tokens, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if !slices.Contains(scan.Formats, *format) {
		return usagef("unknown --format %q (want one of %s)", *format, strings.Join(scan.Formats, ", "))
	}
	m := discover.Method(*method)
	switch m {
	case discover.MethodAuto, discover.MethodARP, discover.MethodICMP, discover.MethodTCP, discover.MethodSNMP:
	default:
		return usagef("unknown --method %q (want auto, arp, icmp, tcp or snmp)", *method)
	}
	if m == discover.MethodSNMP && *noSNMP {
		return usagef("--method snmp and --no-snmp contradict each other")
	}
	if len(tokens) == 0 && *passive == 0 {
		return usagef("no targets: give CIDRs, addresses or ranges (see lanscout scan -h)")
	}
	if *passive > 0 && *iface == "" {
		return usagef("--passive needs --iface to know where to listen")
	}
	if *snmpPort == 0 || *snmpPort > 65535 {
		return usagef("bad --snmp-port %d", *snmpPort)
	}
	targets, err := discover.ParseTargets(tokens)
	if err != nil {
		return usageError{err.Error()}
	}
	if n := discover.CountAddresses(targets); n > discover.MaxAddresses && !*force {
		return usagef("%d addresses is more than %d in one run; narrow the targets or add --force", n, discover.MaxAddresses)
	}

	limitMemory()
	logLevel := slog.LevelWarn
	if *verbose {
		logLevel = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: logLevel}))

	classifier, err := newClassifier(*rulesPath, logger)
	if err != nil {
		return err
	}

	cfg := scan.Config{
		Targets: targets,
		Discover: discover.Options{
			Method:    m,
			Interface: *iface,
			Rate:      *rate,
			Retries:   zeroMeansNone(*retries),
			Timeout:   *timeout,
			TCPPorts:  ports,
			Force:     *force,
			NoDNS:     *noDNS,
		},
		Classifier:      classifier,
		SNMPConcurrency: *snmpWorkers,
		Passive:         *passive,
		Logger:          logger,
	}
	var memory *snmp.MemoryFile
	if !*noSNMP {
		creds, err := credentials()
		if err != nil {
			return usageError{err.Error()}
		}
		memory = openCredentialMemory(logger)
		prober, err := newProber(proberSettings{
			Credentials: creds,
			Port:        uint16(*snmpPort),
			Timeout:     *snmpTimeout,
			Retries:     *snmpRetries,
			Memory:      memory,
			Logger:      logger,
		})
		if err != nil {
			return usageError{err.Error()}
		}
		cfg.Prober = prober
	}

	bar := newProgress(e.stderr, *verbose)
	if bar != nil {
		cfg.Discover.Progress = bar.update
		cfg.SNMPProgress = bar.snmp
	}
	// jsonl to standard output streams each device as soon as it is
	// identified, for a reader on the other end of a pipe or an SSH
	// session (a satellite's scan). With -o the file appears whole at the
	// end, as in the other formats.
	var stream *scan.StreamWriter
	var streamErr error
	if *format == "jsonl" && *outPath == "" {
		stream = scan.NewStreamWriter(e.stdout)
		var stop context.CancelFunc
		ctx, stop = context.WithCancel(ctx)
		defer stop()
		cfg.Device = func(d scan.Device) {
			if streamErr != nil {
				return
			}
			if streamErr = stream.Device(d); streamErr != nil {
				// Nobody reads the output any more: stop scanning.
				stop()
			}
		}
	}
	report, scanErr := scan.Run(ctx, cfg)
	if bar != nil {
		bar.finish()
	}
	if memory != nil {
		if err := memory.Save(); err != nil {
			logger.Warn("could not remember SNMP credentials", "err", err)
		}
	}
	if streamErr != nil {
		return streamErr
	}
	if report == nil {
		return scanErr
	}
	if stream != nil {
		if err := stream.Finish(report); err != nil {
			return err
		}
		return scanErr
	}
	write := func(w io.Writer) error { return scan.WriteReport(w, *format, report) }
	if *outPath != "" {
		if err := writeFileAtomic(*outPath, write); err != nil {
			return err
		}
	} else if err := write(e.stdout); err != nil {
		return err
	}
	return scanErr
}

// scanMemoryLimit is the soft heap limit of a scan. A /16 keeps about 25 MB
// live; without a limit the collector lets the heap grow to twice the live
// data before it runs, which is memory an appliance or a laptop would
// rather keep. The limit is soft: a larger scan still completes, with more
// frequent collections. GOMEMLIMIT in the environment overrides it.
const scanMemoryLimit = 48 << 20

func limitMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(scanMemoryLimit)
	}
}

// zeroMeansNone maps a count given on the command line, where 0 means
// none, to the engine's convention, where 0 means the default and a
// negative count means none.
func zeroMeansNone(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}

// defaultCredentials is what a scan tries when no credential is given: the
// factory default read-only community most devices ship with.
func defaultCredentials() []snmp.Credential {
	return []snmp.Credential{{Name: "public", Version: snmp.V2c, Community: "public"}}
}

// openCredentialMemory loads which credential worked for which address in
// earlier runs, so this run tries it first.
func openCredentialMemory(logger *slog.Logger) *snmp.MemoryFile {
	dir := stateDir()
	if dir == "" {
		return nil
	}
	m, err := snmp.LoadMemoryFile(filepath.Join(dir, "snmp-credentials.json"))
	if err != nil {
		logger.Warn("not remembering SNMP credentials", "err", err)
		return nil
	}
	return m
}

// progress draws a progress bar on a terminal; nil elsewhere, so logs and
// pipes stay clean.
type progress struct {
	bar      *progressbar.ProgressBar
	pass     int  // the sweep pass the bar counts
	snmpSeen bool // the bar counts SNMP probes now, no longer the sweep's
}

func newProgress(w io.Writer, verbose bool) *progress {
	f, ok := w.(*os.File)
	if !ok || verbose || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return progressTo(w)
}

// progressTo draws the bar on w, terminal or not.
func progressTo(w io.Writer) *progress {
	return &progress{bar: progressbar.NewOptions(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("sweeping"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100*time.Millisecond),
	)}
}

func (p *progress) update(pr discover.Progress) {
	if p.snmpSeen {
		return
	}
	if pr.Pass != p.pass {
		// A retry pass counts its own probes from zero; a bar left full
		// by the pass before would never move again.
		if p.pass != 0 {
			p.bar.Reset()
		}
		p.pass = pr.Pass
	}
	if p.bar.GetMax() != pr.Total && pr.Total > 0 {
		p.bar.ChangeMax(pr.Total)
	}
	p.bar.Describe(fmt.Sprintf("pass %d, %d found", pr.Pass, pr.Found))
	_ = p.bar.Set(pr.Sent)
}

// snmp moves the bar on to the SNMP probes once the sweep is over; during
// the sweep the bar stays the sweep's.
func (p *progress) snmp(pr scan.SNMPProgress) {
	if !pr.AllQueued {
		return
	}
	if !p.snmpSeen {
		// The bar only moves below its max: start it over, or a full
		// sweep bar would stay full.
		p.bar.Reset()
		p.snmpSeen = true
	}
	if p.bar.GetMax() != pr.Queued && pr.Queued > 0 {
		p.bar.ChangeMax(pr.Queued)
	}
	p.bar.Describe(fmt.Sprintf("SNMP, %d answered", pr.Answered))
	_ = p.bar.Set(pr.Done)
}

func (p *progress) finish() {
	_ = p.bar.Finish()
	_ = p.bar.Clear()
}
