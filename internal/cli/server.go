package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/lanscout/lanscout/discover"
	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/scan"
	"github.com/lanscout/lanscout/snmp"
	"github.com/lanscout/lanscout/typing"
	"github.com/lanscout/lanscout/web"
)

const serverUsage = `Usage: lanscout server [flags]

Runs the web UI and the REST API over HTTPS, keeping the inventory in
SQLite under the data directory. On first start it creates a self-signed
certificate and an admin account whose password it prints once.

Configuration comes from a YAML file (--config), then LANSCOUT_*
environment variables, then flags, each overriding the one before:

  listen: ":8443"            # LANSCOUT_LISTEN, --listen
  data: ./data               # LANSCOUT_DATA, --data
  trusted_proxies: []        # LANSCOUT_TRUSTED_PROXIES (comma-separated), --trusted-proxies
  session_ttl: 12h           # LANSCOUT_SESSION_TTL, --session-ttl
  log_level: info            # LANSCOUT_LOG_LEVEL, --log-level (debug, info, warn, error)
  rules: ""                  # LANSCOUT_RULES, --rules: admin device types (YAML)
  tcp_ports: [22, 80, 443, 445, 3389, 9100]   # LANSCOUT_TCP_PORTS: ports of the tcp method
  snmp:
    port: 161                # LANSCOUT_SNMP_PORT
    timeout: 1s              # LANSCOUT_SNMP_TIMEOUT
    retries: 1               # LANSCOUT_SNMP_RETRIES
  sweep:                     # the server's sweeps and its agents' scan tasks
    rate: 0                  # LANSCOUT_SWEEP_RATE: probes per second (0: 2000 ARP, 500 ICMP, 2000 TCP)
    retries: 2               # LANSCOUT_SWEEP_RETRIES: extra passes for silent addresses (0: none)

The features have sections of their own, set in the YAML file only (the
README describes each key):

  agents:      enrollment, polling, task timeouts       (README: Agents)
  election:    allowed and denied ranges, max-alive     (README: Election)
  wake:        fallback, confirmation, schedules        (README: Wake-on-LAN from the server)
  satellites:  SSH hosts that wake and scan for us      (README: Satellites)
  export:      snmp_exporter modules, /metrics access   (README: Monitoring exports)
  webhooks:    event receivers owned by the file        (README: Webhooks)
  ocs:         the endpoint for OCS Inventory agents    (README: OCS Inventory agents)
  retention:   how long agent tasks, scan runs, events, (README: Retention)
               the audit log and election events are kept

LANSCOUT_ADMIN_PASSWORD sets the first admin's password instead of a random
one (8 to 72 bytes); it is read only when no user exists.

Flags:
`

// serverConfig is the server's configuration as the YAML file spells it.
type serverConfig struct {
	Listen         string      `yaml:"listen"`
	Data           string      `yaml:"data"`
	TrustedProxies []string    `yaml:"trusted_proxies"`
	SessionTTL     duration    `yaml:"session_ttl"`
	LogLevel       string      `yaml:"log_level"`
	Rules          string      `yaml:"rules"`
	TCPPorts       []uint16    `yaml:"tcp_ports"`
	SNMP           snmpConfig  `yaml:"snmp"`
	Sweep          sweepConfig `yaml:"sweep"`

	// Each feature parses, validates and applies its own section.
	Agents     agentsConfig     `yaml:"agents"`     // server_agents.go
	Election   electionConfig   `yaml:"election"`   // server_election.go
	Wake       wakeConfig       `yaml:"wake"`       // server_wake.go
	Satellites satellitesConfig `yaml:"satellites"` // server_wake.go
	Export     exportConfig     `yaml:"export"`     // server_monitoring.go
	Webhooks   webhooksConfig   `yaml:"webhooks"`   // server_monitoring.go
	OCS        ocsConfig        `yaml:"ocs"`        // server_ocs.go
	Retention  retentionConfig  `yaml:"retention"`  // server_retention.go
}

// deprecatedKey is a key still accepted, so that old files load, that
// no longer does anything: the server warns about it at start.
type deprecatedKey struct {
	Key     string // as the file spells it, with its section
	Instead string // what applies in its place
}

// deprecatedKeys lists the deprecated keys the configuration sets.
func (cfg *serverConfig) deprecatedKeys() []deprecatedKey {
	return cfg.Export.deprecatedKeys()
}

// warnDeprecated logs one warning per deprecated key set.
func warnDeprecated(logger *slog.Logger, cfg *serverConfig) {
	for _, d := range cfg.deprecatedKeys() {
		logger.Warn("configuration: deprecated key is ignored", "key", d.Key, "instead", d.Instead)
	}
}

// serverFeature is one section of the configuration: it checks itself at
// start and then sets its part of the web server's options.
type serverFeature interface {
	validate() error
	apply(o *web.Options, d serverDeps) error
}

// serverDeps are what a feature may need to wire itself up.
type serverDeps struct {
	store      inventory.Store
	logger     *slog.Logger
	classifier *typing.Classifier
	cfg        *serverConfig
}

func (cfg *serverConfig) features() []serverFeature {
	return []serverFeature{&cfg.Agents, &cfg.Election, &cfg.Wake, &cfg.Satellites, &cfg.Export, &cfg.Webhooks, &cfg.OCS, &cfg.Retention}
}

type snmpConfig struct {
	Port    int      `yaml:"port"`
	Timeout duration `yaml:"timeout"`
	Retries int      `yaml:"retries"`
}

// sweepConfig sets the discovery sweep of every scan the server makes or
// hands out: its own and its agents' (one setting, so a subnet is swept
// alike whoever sweeps it).
type sweepConfig struct {
	Rate    int `yaml:"rate"`    // probes per second; 0: the engine's default per method
	Retries int `yaml:"retries"` // extra passes for silent addresses; 0: none
}

func defaultServerConfig() serverConfig {
	return serverConfig{
		Listen:     ":8443",
		Data:       "./data",
		SessionTTL: duration(12 * time.Hour),
		LogLevel:   "info",
		SNMP:       snmpConfig{Port: 161, Timeout: duration(time.Second), Retries: 1},
		Sweep:      sweepConfig{Retries: discover.DefaultRetries},
	}
}

// duration is a time.Duration written "90s" or "12h" in YAML.
type duration time.Duration

func (d *duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration such as 30s or 12h", n.Line, n.Value)
	}
	*d = duration(v)
	return nil
}

func (d *duration) String() string { return time.Duration(*d).String() }

func (d *duration) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 30s or 12h", s)
	}
	*d = duration(v)
	return nil
}

// loadConfigFile reads the YAML file strictly: a misspelt key is an error
// naming its line, not a setting silently ignored.
func loadConfigFile(path string, cfg *serverConfig) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config %s: %w", path, err)
	}
	return nil
}

// applyEnv overrides cfg with LANSCOUT_* variables that are set.
func applyEnv(cfg *serverConfig, getenv func(string) string) error {
	str := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	str("LANSCOUT_LISTEN", &cfg.Listen)
	str("LANSCOUT_DATA", &cfg.Data)
	str("LANSCOUT_LOG_LEVEL", &cfg.LogLevel)
	str("LANSCOUT_RULES", &cfg.Rules)
	if v := getenv("LANSCOUT_TRUSTED_PROXIES"); v != "" {
		cfg.TrustedProxies = splitList(v)
	}
	if v := getenv("LANSCOUT_TCP_PORTS"); v != "" {
		var ports portList
		if err := ports.Set(v); err != nil {
			return fmt.Errorf("LANSCOUT_TCP_PORTS: %w", err)
		}
		cfg.TCPPorts = ports
	}
	for _, d := range []struct {
		name string
		dst  *duration
	}{{"LANSCOUT_SESSION_TTL", &cfg.SessionTTL}, {"LANSCOUT_SNMP_TIMEOUT", &cfg.SNMP.Timeout}} {
		if v := getenv(d.name); v != "" {
			if err := d.dst.Set(v); err != nil {
				return fmt.Errorf("%s: %w", d.name, err)
			}
		}
	}
	for _, n := range []struct {
		name string
		dst  *int
	}{{"LANSCOUT_SNMP_PORT", &cfg.SNMP.Port}, {"LANSCOUT_SNMP_RETRIES", &cfg.SNMP.Retries},
		{"LANSCOUT_SWEEP_RATE", &cfg.Sweep.Rate}, {"LANSCOUT_SWEEP_RETRIES", &cfg.Sweep.Retries}} {
		if v := getenv(n.name); v != "" {
			i, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("%s: %q is not a number", n.name, v)
			}
			*n.dst = i
		}
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// validate checks everything that can be checked before opening anything.
func (cfg *serverConfig) validate() error {
	_, port, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %q: want HOST:PORT or :PORT (%v)", cfg.Listen, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("listen %q: port %q is not 0-65535", cfg.Listen, port)
	}
	if strings.TrimSpace(cfg.Data) == "" {
		return errors.New("data: the data directory must be set")
	}
	for _, p := range cfg.TrustedProxies {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				return fmt.Errorf("trusted_proxies: %q is neither an address nor a CIDR", p)
			}
		}
	}
	if cfg.SessionTTL < duration(time.Minute) || cfg.SessionTTL > duration(30*24*time.Hour) {
		return fmt.Errorf("session_ttl %s: want between 1m and 720h", time.Duration(cfg.SessionTTL))
	}
	if _, err := parseLogLevel(cfg.LogLevel); err != nil {
		return err
	}
	if slices.Contains(cfg.TCPPorts, 0) {
		return errors.New("tcp_ports: 0 is not a port")
	}
	if cfg.SNMP.Port < 1 || cfg.SNMP.Port > 65535 {
		return fmt.Errorf("snmp.port %d: want 1-65535", cfg.SNMP.Port)
	}
	if cfg.SNMP.Timeout <= 0 || cfg.SNMP.Timeout > duration(time.Minute) {
		return fmt.Errorf("snmp.timeout %s: want more than 0 and at most 1m", time.Duration(cfg.SNMP.Timeout))
	}
	if cfg.SNMP.Retries < 0 || cfg.SNMP.Retries > 10 {
		return fmt.Errorf("snmp.retries %d: want 0-10", cfg.SNMP.Retries)
	}
	if cfg.Sweep.Rate < 0 || cfg.Sweep.Rate > 100000 {
		return fmt.Errorf("sweep.rate %d: want 0 (the default) to 100000 probes per second", cfg.Sweep.Rate)
	}
	if cfg.Sweep.Retries < 0 || cfg.Sweep.Retries > 10 {
		return fmt.Errorf("sweep.retries %d: want 0-10", cfg.Sweep.Retries)
	}
	for _, f := range cfg.features() {
		if err := f.validate(); err != nil {
			return err
		}
	}
	return nil
}

func parseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log_level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// loadServerConfig builds the configuration: defaults, then the file,
// then the environment, then the flags given on the command line.
func loadServerConfig(args []string, stderr io.Writer, getenv func(string) string) (serverConfig, error) {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, serverUsage); fs.PrintDefaults() }
	var flagCfg serverConfig
	var proxies string
	configPath := fs.String("config", "", "YAML configuration file")
	fs.StringVar(&flagCfg.Listen, "listen", ":8443", "address to serve HTTPS on")
	fs.StringVar(&flagCfg.Data, "data", "./data", "data directory: database, keys, certificate")
	fs.StringVar(&proxies, "trusted-proxies", "", "comma-separated addresses or CIDRs of reverse proxies to trust")
	fs.Var(&flagCfg.SessionTTL, "session-ttl", "how long a login lasts (default 12h)")
	fs.StringVar(&flagCfg.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&flagCfg.Rules, "rules", "", "YAML file of admin-defined device types")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return serverConfig{}, err
		}
		return serverConfig{}, usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return serverConfig{}, usagef("unexpected argument %q", fs.Arg(0))
	}
	cfg := defaultServerConfig()
	if *configPath == "" {
		*configPath = getenv("LANSCOUT_CONFIG")
	}
	if *configPath != "" {
		if err := loadConfigFile(*configPath, &cfg); err != nil {
			return serverConfig{}, err
		}
	}
	if err := applyEnv(&cfg, getenv); err != nil {
		return serverConfig{}, err
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "listen":
			cfg.Listen = flagCfg.Listen
		case "data":
			cfg.Data = flagCfg.Data
		case "trusted-proxies":
			cfg.TrustedProxies = splitList(proxies)
		case "session-ttl":
			cfg.SessionTTL = flagCfg.SessionTTL
		case "log-level":
			cfg.LogLevel = flagCfg.LogLevel
		case "rules":
			cfg.Rules = flagCfg.Rules
		}
	})
	if err := cfg.validate(); err != nil {
		return serverConfig{}, fmt.Errorf("configuration: %w", err)
	}
	return cfg, nil
}

func runServer(ctx context.Context, e env, args []string) int {
	return exitCode(e.stderr, "server", serverCommand(ctx, e, args, os.Getenv))
}

// shutdownGrace is how long a stopping server waits for requests to end
// and scans to store their last devices.
const shutdownGrace = 15 * time.Second

func serverCommand(ctx context.Context, e env, args []string, getenv func(string) string) error {
	cfg, err := loadServerConfig(args, e.stderr, getenv)
	if err != nil {
		return err
	}
	level, _ := parseLogLevel(cfg.LogLevel)
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	warnDeprecated(logger, &cfg)

	// Check the rules before anything is created on disk.
	classifier, err := newClassifier(cfg.Rules, logger)
	if err != nil {
		return fmt.Errorf("rules: %w", err)
	}
	var fileRules []typing.Rule // the admin pages' types come after these
	if cfg.Rules != "" {
		if fileRules, err = typing.LoadRules(cfg.Rules); err != nil {
			return fmt.Errorf("rules: %w", err)
		}
	}
	store, err := inventory.OpenSQLite(ctx, cfg.Data, inventory.Options{Logger: logger})
	if err != nil {
		return err
	}
	defer store.Close()

	if err := ensureAdmin(ctx, store, e.stderr, getenv("LANSCOUT_ADMIN_PASSWORD")); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	cert, created, err := loadOrCreateCert(cfg.Data, certHosts(ln.Addr()))
	if err != nil {
		return err
	}
	fp := certFingerprints(cert.Leaf)
	if created {
		fmt.Fprintf(e.stderr, "Created a self-signed TLS certificate in %s.\n", cfg.Data)
	}
	fmt.Fprintf(e.stderr, "TLS certificate fingerprint (compare with your browser's):\n  %s\n  SHA-256 %s\n", fp.Base64, fp.Hex)

	opts := web.Options{
		Store:          store,
		Logger:         logger,
		TrustedProxies: cfg.TrustedProxies,
		SessionTTL:     time.Duration(cfg.SessionTTL),
		Scan:           serverScanFunc(newStoredTypes(store, fileRules, classifier, logger).classifier, cfg, logger),
		Admin:          adminOptions(cfg, fp, fileRules),
	}
	deps := serverDeps{store: store, logger: logger, classifier: classifier, cfg: &cfg}
	for _, f := range cfg.features() {
		if err := f.apply(&opts, deps); err != nil {
			return err
		}
	}
	srv, err := web.New(opts)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		TLSConfig:         tlsConfig(cert),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(e.stderr, "lanscout server listening on https://%s\n", displayAddr(ln.Addr()))
	logger.Info("serving", "addr", ln.Addr().String(), "data", cfg.Data)

	served := make(chan error, 1)
	go func() { served <- hs.ServeTLS(ln, "", "") }()
	select {
	case err := <-served:
		srv.Close(context.Background())
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	// Scans first: they store what they found and close their runs as
	// incomplete while requests drain.
	scanErr := srv.Close(sctx)
	if err := hs.Shutdown(sctx); err != nil {
		logger.Warn("shutdown: requests still running were cut", "err", err)
		hs.Close()
	}
	if scanErr != nil {
		logger.Warn("shutdown", "err", scanErr)
	}
	<-served
	logger.Info("stopped")
	return nil
}

// serverScanFunc builds the server's scans the way `lanscout scan` builds
// its own: the classifier of the moment (admin types change it), a prober
// per scan with the subnet's credentials.
func serverScanFunc(classify func(context.Context) (*typing.Classifier, error), cfg serverConfig, logger *slog.Logger) web.ScanFunc {
	return func(ctx context.Context, sn inventory.Subnet, creds []snmp.Credential, device func(scan.Device)) (*scan.Report, error) {
		targets, err := discover.ParseTargets([]string{sn.CIDR})
		if err != nil {
			return nil, err
		}
		classifier, err := classify(ctx)
		if err != nil {
			return nil, err
		}
		prober, err := newProber(proberSettings{
			Credentials: creds,
			Port:        uint16(cfg.SNMP.Port),
			Timeout:     time.Duration(cfg.SNMP.Timeout),
			Retries:     cfg.SNMP.Retries,
			Logger:      logger,
		})
		if err != nil {
			return nil, err
		}
		sweep := discover.Options{Method: discover.Method(sn.Method), Rate: cfg.Sweep.Rate, Retries: zeroMeansNone(cfg.Sweep.Retries),
			TCPPorts: cfg.TCPPorts, Logger: logger, Progress: web.SweepProgress(ctx)}
		return scan.Run(ctx, scan.Config{
			Targets:    targets,
			Discover:   sweep,
			Prober:     prober,
			Classifier: classifier,
			Logger:     logger,
			Device:     device,
			// Method snmp has no sweep: this is all its progress bar.
			SNMPProgress: web.SNMPProgress(ctx),
		})
	}
}

// ensureAdmin creates the first admin when there is no user at all, so a
// fresh appliance can be logged into. The password is printed once; only
// its hash is kept.
func ensureAdmin(ctx context.Context, store inventory.Store, stderr io.Writer, password string) error {
	users, err := store.Users(ctx)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return nil
	}
	generated := password == ""
	if generated {
		if password, err = randomPassword(); err != nil {
			return err
		}
	} else if len(password) < 8 || len(password) > 72 {
		return fmt.Errorf("LANSCOUT_ADMIN_PASSWORD must be 8 to 72 bytes long, not %d", len(password))
	}
	u, err := store.CreateUser(ctx, "admin", password, inventory.RoleAdmin)
	if err != nil {
		return fmt.Errorf("create the first admin: %w", err)
	}
	if err := store.Audit(ctx, inventory.AuditEntry{Actor: "system", Action: "user.create",
		Target: fmt.Sprintf("user/%d", u.ID), Details: "first admin, created at first start"}); err != nil {
		return err
	}
	if generated {
		fmt.Fprintf(stderr, "Created the first admin account. Log in as %q with password:\n\n    %s\n\nIt is shown only this once; change it with 'lanscout user passwd'.\n\n", u.Username, password)
	} else {
		fmt.Fprintf(stderr, "Created the first admin account %q with the password from LANSCOUT_ADMIN_PASSWORD.\n", u.Username)
	}
	return nil
}

// randomPassword returns 128 random bits in URL-safe base64, 22
// characters: easy to copy, impossible to guess.
func randomPassword() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// displayAddr is an address people can paste into a browser: a wildcard
// listen address is shown as localhost.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	if tcp.IP == nil || tcp.IP.IsUnspecified() {
		return net.JoinHostPort("localhost", strconv.Itoa(tcp.Port))
	}
	return tcp.String()
}

// dataPath joins a file name to the data directory.
func dataPath(dir, name string) string { return filepath.Join(dir, name) }
