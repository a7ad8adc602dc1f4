// Package cli implements lanscout's subcommands. cmd/lanscout only wires
// the process (signals, standard streams, exit code) to Run.
package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Version is set at build time with -ldflags "-X ...cli.Version=...".
var Version = "dev"

// env is what a subcommand may touch of the process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

type command struct {
	summary string
	run     func(ctx context.Context, e env, args []string) int
}

func commands() map[string]command {
	return map[string]command{
		"version":   {"print the version", runVersion},
		"scan":      {"sweep subnets and identify what answers", runScan},
		"snmp":      {"walk or record a device over SNMP", runSNMP},
		"server":    {"run the web UI and API", runServer},
		"user":      {"add users or change their password (server accounts)", runUser},
		"token":     {"create an API token for the server", runToken},
		"agent":     {"run an agent that reports to a server and scans for it", runAgent},
		"wake":      {"send Wake-on-LAN magic packets", runWake},
		"satellite": {"check an SSH satellite's connection, host key and wake command", runSatellite},
		"export":    {"write devices for Prometheus, Icinga 2 or Nagios", runExport},
	}
}

// Run executes the subcommand named by args[0] and returns the process exit
// code: 0 success, 1 failure, 2 usage error.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := env{stdin: stdin, stdout: stdout, stderr: stderr}
	cmds := commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "lanscout: unknown command %q\n\n", args[0])
		usage(stderr, cmds)
		return 2
	}
	return cmd.run(ctx, e, args[1:])
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for name := range cmds {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("lanscout: network discovery and SNMP scanning\n\nUsage: lanscout COMMAND [flags] [args]\n\nCommands:\n")
	for _, name := range names {
		fmt.Fprintf(&b, "  %-10s %s\n", name, cmds[name].summary)
	}
	b.WriteString("\nRun 'lanscout COMMAND -h' for a command's flags.\n")
	io.WriteString(w, b.String())
}

func runVersion(_ context.Context, e env, _ []string) int {
	fmt.Fprintf(e.stdout, "lanscout %s\n", Version)
	return 0
}
