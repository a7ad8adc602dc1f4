package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/lanscout/lanscout/wol"
)

const wakeUsage = `Usage: lanscout wake [--iface NAME | --broadcast ADDR] [--port N]... [--method auto|raw|udp] [--password PW] MAC...

Sends a Wake-on-LAN magic packet to each MAC (aa:bb:cc:dd:ee:ff,
aa-bb-cc-dd-ee-ff, aabb.ccdd.eeff or aabbccddeeff).

  --iface NAME       send on this interface's segment: a raw Ethernet frame
                     (EtherType 0x0842, to ff:ff:ff:ff:ff:ff; needs
                     CAP_NET_RAW) when allowed, else UDP to the interface's
                     directed broadcast
  --broadcast ADDR   send UDP to this broadcast address, e.g. 192.168.1.255
                     (the target subnet's directed broadcast)
  neither            UDP to 255.255.255.255, which leaves through the
                     default route's interface only

A sleeping machine has no IP address: the packet must be a broadcast on its
own segment. Routers drop directed broadcasts from other subnets, which is
why the lanscout server wakes through agents and SSH satellites.

Prints one line per MAC. Exit status: 0 every packet left, 1 some did not
(or a missing privilege), 2 bad command line (nothing is sent).

Flags:
`

func runWake(ctx context.Context, e env, args []string) int {
	return exitCode(e.stderr, "wake", wakeCommand(ctx, e, args))
}

// intList is a repeatable flag of integers, also comma-separated.
type intList []int

func (l *intList) String() string { return wol.PortsString(*l) }

func (l *intList) Set(s string) error {
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q is not a port 1-65535", f)
		}
		*l = append(*l, n)
	}
	return nil
}

func wakeCommand(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("wake", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprint(e.stderr, wakeUsage); fs.PrintDefaults() }
	iface := fs.String("iface", "", "interface on the target's segment")
	broadcast := fs.String("broadcast", "", "broadcast address to send UDP to")
	method := fs.String("method", "auto", "auto, raw or udp")
	password := fs.String("password", "", "SecureOn password: 6 bytes as aa:bb:cc:dd:ee:ff, or 4 as a.b.c.d or aabbccdd")
	var ports intList
	fs.Var(&ports, "port", "UDP port (repeatable or comma-separated; default 9 and 7)")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if len(rest) == 0 {
		return usagef("give at least one MAC (see lanscout wake -h)")
	}
	macs, err := wol.ParseMACs(rest)
	if err != nil {
		return usageError{err.Error()}
	}
	pw, err := wol.ParsePassword(*password)
	if err != nil {
		return usageError{err.Error()}
	}
	m, err := wol.ParseMethod(*method)
	if err != nil {
		return usageError{err.Error()}
	}
	if *iface != "" && *broadcast != "" {
		return usagef("give --iface or --broadcast, not both")
	}
	var route wol.Route
	switch {
	case *iface != "":
		ifi, err := wol.LocalInterface(*iface)
		if err != nil {
			return usageError{err.Error()}
		}
		route = wol.InterfaceRoute(ifi)
	default:
		if m == wol.MethodRaw {
			return usagef("--method raw needs --iface")
		}
		b := "255.255.255.255"
		if *broadcast != "" {
			b = *broadcast
		}
		a, err := netip.ParseAddr(b)
		if err != nil || !a.Is4() {
			return usagef("--broadcast %q is not an IPv4 address", b)
		}
		route.Broadcast = a
	}
	sender := wol.Sender{Ports: ports, Password: pw, Method: m}
	res, err := sender.Send(ctx, route, macs)
	if err != nil {
		return err
	}
	if len(ports) == 0 {
		ports = wol.DefaultPorts
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	failed := 0
	for _, r := range res {
		switch {
		case r.Err != nil:
			failed++
			fmt.Fprintf(tw, "%s\tFAILED\t%v\n", r.MAC, r.Err)
		case r.Method == wol.MethodRaw:
			fmt.Fprintf(tw, "%s\tsent\traw Ethernet on %s\n", r.MAC, route.Interface.Name)
		default:
			fmt.Fprintf(tw, "%s\tsent\tUDP to %s port %s\n", r.MAC, route.Broadcast, wol.PortsString(ports))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d magic packets were not sent", failed, len(res))
	}
	return nil
}
