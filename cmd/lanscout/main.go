// Command lanscout discovers what is on a network, asks it over SNMP what it
// is, and keeps the answer. All logic lives in internal/cli; main only wires
// the process to it.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/lanscout/lanscout/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
