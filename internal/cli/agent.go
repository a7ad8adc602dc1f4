package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/lanscout/lanscout/agent"
	"github.com/lanscout/lanscout/agent/protocol"
	"github.com/lanscout/lanscout/discover"
	"github.com/lanscout/lanscout/scan"
	"github.com/lanscout/lanscout/snmp"
	"github.com/lanscout/lanscout/typing"
)

const agentUsage = `Usage: lanscout agent --server https://HOST:8443 [--enroll-key KEY]
                      [--server-fingerprint SHA256:...] [--ca FILE] [--state DIR]

Runs an agent: it reports this machine's inventory to the server and, when
the server elects it, sweeps and SNMP-scans its subnet for the server, listens
for new machines and sends Wake-on-LAN packets. It listens on no port: it
calls the server, over HTTPS it verifies, every poll interval, and holds a
long poll open for tasks in between.

The first start needs --enroll-key (made by an admin on the server's
Enrollment keys page); the token it is exchanged for is kept 0600 in the
state directory, and later starts need only --server.

The server's certificate is verified against --ca (a PEM file: a CA, or the
server's own certificate), or pinned with --server-fingerprint (either form
the server prints at start), or else against the system's roots. There is
no option that turns verification off.

ARP sweeps, passive listening and raw magic packets need raw sockets: root,
or CAP_NET_RAW (see dist/lanscout-agent.service). Without it the agent
still reports its inventory, says so to the server (which then prefers other
agents), and its auto scans fall back to what needs no raw socket.

Flags:
`

func runAgent(ctx context.Context, e env, args []string) int {
	return exitCode(e.stderr, "agent", agentCommand(ctx, e, args, os.Getenv))
}

func agentCommand(ctx context.Context, e env, args []string, getenv func(string) string) error {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprint(e.stderr, agentUsage); fs.PrintDefaults() }
	var (
		server      = fs.String("server", getenv("LANSCOUT_SERVER"), "server URL, https://HOST:PORT (LANSCOUT_SERVER)")
		enrollKey   = fs.String("enroll-key", "", "enrollment key, needed until the agent has a token (LANSCOUT_ENROLL_KEY)")
		fingerprint = fs.String("server-fingerprint", getenv("LANSCOUT_SERVER_FINGERPRINT"), "pin the server's certificate: SHA256:base64 or AB:CD:… hex")
		caFile      = fs.String("ca", getenv("LANSCOUT_CA"), "PEM file of the CA (or certificate) that verifies the server")
		stateDir    = fs.String("state", "/var/lib/lanscout-agent", "state directory: identity and token (0600)")
		rulesPath   = fs.String("rules", "", "YAML file of admin-defined device types for the agent's scans")
		root        = fs.String("root", "", "read /proc, /sys and /etc under this directory for the inventory (the host's, mounted in a container)")
		logLevel    = fs.String("log-level", "info", "debug, info, warn or error")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments: %v", fs.Args())
	}
	if *server == "" {
		return usagef("--server is required")
	}
	if *enrollKey == "" {
		// The environment rather than a flag keeps the key out of ps.
		*enrollKey = getenv("LANSCOUT_ENROLL_KEY")
	}
	level, err := parseLogLevel(*logLevel)
	if err != nil {
		return usageError{err.Error()}
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	classifier, err := newClassifier(*rulesPath, logger)
	if err != nil {
		return fmt.Errorf("rules: %w", err)
	}
	a, err := agent.New(agent.Options{
		Server:    *server,
		EnrollKey: *enrollKey,
		TLS:       agent.TLSOptions{CAFile: *caFile, Fingerprint: *fingerprint},
		StateDir:  *stateDir,
		Version:   Version,
		Logger:    logger,
		Scan:      agentScanFunc(classifier, logger),
		Collector: agent.Collector{Root: *root},
	})
	if err != nil {
		return err
	}
	logger.Info("agent starting", "server", *server, "state", *stateDir, "capabilities", a.Capabilities())
	return a.Run(ctx)
}

// agentScanFunc builds an agent's scans the way `lanscout scan` and the
// server build theirs: one classifier, a prober per scan with the task's
// credentials, the same pipeline.
func agentScanFunc(classifier *typing.Classifier, logger *slog.Logger) agent.ScanFunc {
	return func(ctx context.Context, t protocol.ScanTask, creds []snmp.Credential, device func(scan.Device)) (*scan.Report, error) {
		targets, err := discover.ParseTargets([]string{t.Subnet})
		if err != nil {
			return nil, err
		}
		method := discover.Method(t.Method)
		if method == "" {
			method = discover.MethodAuto
		}
		retries := 0 // the engine's default
		if t.Retries >= 0 {
			retries = zeroMeansNone(t.Retries)
		}
		prober, err := newProber(proberSettings{
			Credentials: creds,
			Port:        t.SNMP.Port,
			Timeout:     time.Duration(t.SNMP.TimeoutMS) * time.Millisecond,
			Retries:     t.SNMP.Retries,
			Logger:      logger,
		})
		if err != nil {
			return nil, err
		}
		return scan.Run(ctx, scan.Config{
			Targets:    targets,
			Discover:   discover.Options{Method: method, Rate: t.Rate, Retries: retries, TCPPorts: t.TCPPorts, Logger: logger},
			Prober:     prober,
			Classifier: classifier,
			Logger:     logger,
			Device:     device,
		})
	}
}
