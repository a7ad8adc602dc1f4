package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/lanscout/lanscout/snmp"
)

const snmpUsage = `Usage:
  lanscout snmp walk [flags] TARGET [OID]     print OID = TYPE: value lines (default OID 1.3.6.1.2.1)
  lanscout snmp record [flags] TARGET         write the whole device in snmprec format (for snmpsim)

TARGET is host or host:port ([v6addr]:port). Credentials are tried in the
order given, and the first that answers is used; with none, v2c community
"public" is tried. Record writes to standard output unless -o is given.

Flags:
`

// runSNMP implements "lanscout snmp walk|record".
func runSNMP(ctx context.Context, e env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		w := e.stderr
		if len(args) > 0 {
			w = e.stdout
		}
		fs := newSNMPFlags("snmp", w)
		registerSNMPFlags(fs, true)
		fs.Usage()
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	sub := args[0]
	switch sub {
	case "walk", "record":
		return exitCode(e.stderr, "snmp "+sub, snmpCommand(ctx, e, sub, args[1:]))
	}
	fmt.Fprintf(e.stderr, "lanscout snmp: unknown subcommand %q (want walk or record)\n", sub)
	return 2
}

// snmpFlags are the flags walk and record share.
type snmpFlags struct {
	fs          *flag.FlagSet
	credentials func() ([]snmp.Credential, error)
	port        *uint
	timeout     *time.Duration
	retries     *int
	maxReps     *int
	maxRows     *int
	maxTime     *time.Duration
	out         *string
	verbose     *bool
}

func newSNMPFlags(name string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("lanscout "+name, flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		io.WriteString(fs.Output(), snmpUsage)
		fs.PrintDefaults()
	}
	return fs
}

func registerSNMPFlags(fs *flag.FlagSet, record bool) *snmpFlags {
	f := &snmpFlags{fs: fs}
	f.credentials = credentialFlags(fs)
	f.port = fs.Uint("port", 161, "UDP port when TARGET has none")
	f.timeout = fs.Duration("timeout", snmp.DefaultTimeout, "timeout per request attempt")
	f.retries = fs.Int("retries", snmp.DefaultRetries, "resends after a timeout")
	f.maxReps = fs.Int("max-repetitions", snmp.DefaultMaxRepetitions, "GETBULK max-repetitions to start with (1-64; lowered automatically on tooBig or timeouts)")
	rows, limit := 0, time.Duration(0)
	if record {
		rows, limit = 500000, 10*time.Minute
	}
	f.maxRows = fs.Int("max-rows", rows, "stop after this many variables (0: no limit)")
	f.maxTime = fs.Duration("max-time", limit, "stop after this long (0: no limit)")
	f.verbose = fs.Bool("v", false, "log SNMP traffic to standard error")
	if record {
		f.out = fs.String("o", "", "write the recording to this file instead of standard output")
	}
	return f
}

func snmpCommand(ctx context.Context, e env, sub string, args []string) error {
	record := sub == "record"
	fs := newSNMPFlags("snmp "+sub, e.stderr)
	f := registerSNMPFlags(fs, record)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	maxPos := 2
	if record {
		maxPos = 1
	}
	if len(pos) == 0 || len(pos) > maxPos {
		return usagef("want TARGET%s, got %d arguments (see lanscout snmp -h)", map[bool]string{false: " [OID]", true: ""}[record], len(pos))
	}
	if *f.port == 0 || *f.port > 65535 {
		return usagef("bad --port %d", *f.port)
	}
	if *f.maxReps < 1 || *f.maxReps > snmp.MaxMaxRepetitions {
		return usagef("--max-repetitions must be 1 to %d", snmp.MaxMaxRepetitions)
	}
	roots := []string{"1.3.6.1.2.1"}
	if record {
		// LLDP-MIB lives under the IEEE arc, outside 1.3.6.1; snmprec
		// files are in OID order, so it comes first.
		roots = []string{"1.0.8802", "1.3.6.1"}
	} else if len(pos) == 2 {
		oid, err := snmp.NormalizeOID(pos[1])
		if err != nil {
			return usageError{err.Error()}
		}
		roots = []string{oid}
	}
	creds, err := f.credentials()
	if err != nil {
		return usageError{err.Error()}
	}
	if len(creds) == 0 {
		creds = []snmp.Credential{{Name: "public", Version: snmp.V2c, Community: "public"}}
	}

	level := slog.LevelWarn
	if *f.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))

	if *f.maxTime > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *f.maxTime)
		defer cancel()
	}
	target, err := resolveTarget(ctx, pos[0], uint16(*f.port))
	if err != nil {
		return err
	}
	retries := *f.retries
	if retries == 0 {
		retries = -1 // ProberOptions: 0 means the default
	}
	prober, err := snmp.NewProber(snmp.ProberOptions{
		Credentials:    creds,
		Port:           target.Port(),
		Timeout:        *f.timeout,
		Retries:        retries,
		MaxRepetitions: *f.maxReps,
		Logger:         logger,
	})
	if err != nil {
		return usageError{err.Error()}
	}
	sess, ans, err := prober.Open(ctx, target.Addr())
	if err != nil {
		return err
	}
	defer sess.Close()
	logger.Debug("snmp credential", "target", target, "credential", ans.Credential, "version", ans.Version)

	var (
		rows    int
		vars    []snmp.Var
		out     = bufio.NewWriter(e.stdout)
		walkErr error
	)
	for _, root := range roots {
		max := 0
		if *f.maxRows > 0 {
			max = *f.maxRows - rows
			if max <= 0 {
				break
			}
		}
		walkErr = sess.Walk(ctx, root, max, func(v snmp.Var) error {
			rows++
			if record {
				vars = append(vars, v)
				return nil
			}
			return writeVarLine(out, v)
		})
		if walkErr != nil {
			break
		}
	}
	capped := *f.maxRows > 0 && rows >= *f.maxRows
	timedOut := *f.maxTime > 0 && errors.Is(walkErr, context.DeadlineExceeded)
	if timedOut {
		walkErr = nil
	}
	if capped || timedOut {
		fmt.Fprintf(e.stderr, "lanscout snmp %s: stopped at the --max-rows/--max-time cap after %d variables; the output is partial\n", sub, rows)
	}
	if record {
		if *f.out != "" {
			if err := writeFileAtomic(*f.out, func(w io.Writer) error { return snmp.WriteSnmprec(w, vars) }); err != nil {
				return err
			}
		} else if err := snmp.WriteSnmprec(out, vars); err != nil {
			return err
		}
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if walkErr != nil {
		return fmt.Errorf("%w (after %d variables)", walkErr, rows)
	}
	return nil
}

// resolveTarget turns host, host:port, v6addr or [v6addr]:port into an
// address, preferring IPv4 for names.
func resolveTarget(ctx context.Context, s string, defPort uint16) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if ap.Port() == 0 {
			return netip.AddrPort{}, usagef("bad port in target %q", s)
		}
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.AddrPortFrom(a.Unmap(), defPort), nil
	}
	host, port := s, defPort
	if h, p, err := net.SplitHostPort(s); err == nil {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return netip.AddrPort{}, usagef("bad port in target %q", s)
		}
		host, port = h, uint16(n)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return netip.AddrPortFrom(a.Unmap(), port), nil
	}
	if host == "" {
		return netip.AddrPort{}, usagef("empty target host")
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("resolve %s: %w", host, err)
	}
	best := addrs[0]
	for _, a := range addrs {
		if a.Unmap().Is4() {
			best = a
			break
		}
	}
	return netip.AddrPortFrom(best.Unmap(), port), nil
}

// writeVarLine prints v as snmpwalk -On does: ".OID = TYPE: value".
func writeVarLine(w io.Writer, v snmp.Var) error {
	_, err := fmt.Fprintf(w, ".%s = %s\n", v.Name, formatValue(v))
	return err
}

func formatValue(v snmp.Var) string {
	switch v.Kind {
	case snmp.Integer:
		return "INTEGER: " + strconv.FormatInt(v.Int, 10)
	case snmp.OctetString:
		if len(v.Bytes) == 0 {
			return `STRING: ""`
		}
		if printable(v.Bytes) {
			return "STRING: " + strconv.Quote(string(v.Bytes))
		}
		return "Hex-STRING: " + hexBytes(v.Bytes)
	case snmp.Opaque:
		return "Opaque: " + hexBytes(v.Bytes)
	case snmp.ObjectID:
		return "OID: ." + v.OID
	case snmp.IPAddress:
		return "IpAddress: " + v.Text()
	case snmp.Counter32:
		return "Counter32: " + strconv.FormatUint(v.Uint, 10)
	case snmp.Gauge32:
		return "Gauge32: " + strconv.FormatUint(v.Uint, 10)
	case snmp.Counter64:
		return "Counter64: " + strconv.FormatUint(v.Uint, 10)
	case snmp.TimeTicks:
		t := v.Uint
		return fmt.Sprintf("Timeticks: (%d) %d days, %d:%02d:%02d.%02d", t, t/8640000, t/360000%24, t/6000%60, t/100%60, t%100)
	case snmp.Null:
		return "NULL"
	}
	return v.Kind.String()
}

func printable(b []byte) bool {
	for _, c := range b {
		if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c >= 0x7f {
			return false
		}
	}
	return true
}

func hexBytes(b []byte) string {
	var sb strings.Builder
	for i, c := range b {
		if i > 0 {
			sb.WriteByte(' ')
		}
		fmt.Fprintf(&sb, "%02X", c)
	}
	return sb.String()
}

// credentialFlags registers --community, --snmp-v3 (both repeatable) and
// --credentials FILE on fs and returns a function that, after fs.Parse,
// gives the credentials in command-line order with default names filled
// in. Values are only recorded while flags are parsed and checked by the
// returned function, because the flag package quotes a rejected value in
// its error, and these values are secrets.
func credentialFlags(fs *flag.FlagSet) func() ([]snmp.Credential, error) {
	var list credentialList
	fs.Var(credentialFlag{&list, "community"}, "community", "SNMP v1/v2c community, repeatable (v2c; prefix v1: for v1, e.g. v1:public)")
	fs.Var(credentialFlag{&list, "snmp-v3"}, "snmp-v3", "SNMPv3 user, repeatable: user[:auth:authpass[:priv:privpass]][@context]; escape ':' '@' '\\' in a field with '\\'")
	fs.Var(credentialFlag{&list, "credentials"}, "credentials", "YAML file of credentials, repeatable (see the snmp package docs)")
	return func() ([]snmp.Credential, error) {
		var creds []snmp.Credential
		for i, e := range list {
			switch e.kind {
			case "community":
				c, err := snmp.ParseCommunityFlag(e.value)
				if err != nil {
					return nil, fmt.Errorf("credential #%d: %w", i+1, err)
				}
				creds = append(creds, c)
			case "snmp-v3":
				c, err := snmp.ParseV3Flag(e.value)
				if err != nil {
					return nil, fmt.Errorf("credential #%d: %w", i+1, err)
				}
				creds = append(creds, c)
			case "credentials":
				cs, err := snmp.LoadCredentials(e.value)
				if err != nil {
					return nil, err
				}
				creds = append(creds, cs...)
			}
		}
		if len(creds) == 0 {
			return nil, nil
		}
		return snmp.NormalizeCredentials(creds)
	}
}

type credentialEntry struct{ kind, value string }

type credentialList []credentialEntry

// credentialFlag is one of the three flags feeding a shared ordered list.
type credentialFlag struct {
	list *credentialList
	kind string
}

func (f credentialFlag) String() string { return "" }

func (f credentialFlag) Set(s string) error {
	*f.list = append(*f.list, credentialEntry{f.kind, s})
	return nil
}
