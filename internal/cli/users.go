package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/lanscout/lanscout/inventory"
)

const userUsage = `Usage:
  lanscout user add [--data DIR] [--role admin|operator|viewer] USERNAME
  lanscout user passwd [--data DIR] USERNAME

Manages web UI accounts from the shell, also while the server runs. The
password is asked for twice on a terminal, or read as the first line of
standard input (echo "$PW" | lanscout user add alice). Changing a password
logs the user out everywhere.

Flags:
`

func runUser(ctx context.Context, e env, args []string) int {
	return exitCode(e.stderr, "user", userCommand(ctx, e, args))
}

func userCommand(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || (args[0] != "add" && args[0] != "passwd") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprint(e.stderr, userUsage)
			return flag.ErrHelp
		}
		return usagef("want 'user add' or 'user passwd' (see lanscout user -h)")
	}
	sub := args[0]
	fs := flag.NewFlagSet("user "+sub, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprint(e.stderr, userUsage); fs.PrintDefaults() }
	data := fs.String("data", "./data", "the server's data directory")
	role := fs.String("role", "viewer", "role of a new user: admin, operator or viewer")
	rest, err := parseInterspersed(fs, args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if len(rest) != 1 {
		return usagef("give exactly one USERNAME")
	}
	if !inventory.Role(*role).Valid() {
		return usagef("--role %q: want admin, operator or viewer", *role)
	}
	store, err := openExistingStore(ctx, *data)
	if err != nil {
		return err
	}
	defer store.Close()
	password, err := readPassword(e)
	if err != nil {
		return err
	}
	switch sub {
	case "add":
		u, err := store.CreateUser(ctx, rest[0], password, inventory.Role(*role))
		if err != nil {
			return err
		}
		if err := store.Audit(ctx, cliAudit("user.create", fmt.Sprintf("user/%d", u.ID), u.Username+" as "+string(u.Role))); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "created user %s (%s)\n", u.Username, u.Role)
	case "passwd":
		u, err := store.UserByName(ctx, rest[0])
		if err != nil {
			return err
		}
		if err := store.SetPassword(ctx, u.ID, password); err != nil {
			return err
		}
		if err := store.Audit(ctx, cliAudit("user.passwd", fmt.Sprintf("user/%d", u.ID), u.Username)); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "changed the password of %s; their sessions are ended\n", u.Username)
	}
	return nil
}

const tokenUsage = `Usage: lanscout token create [--data DIR] --name NAME --role viewer|operator|admin [--expires 90d]

Creates a bearer token for the REST API (Authorization: Bearer TOKEN) and
prints it once: only its hash is stored.

Flags:
`

func runToken(ctx context.Context, e env, args []string) int {
	return exitCode(e.stderr, "token", tokenCommand(ctx, e, args))
}

func tokenCommand(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprint(e.stderr, tokenUsage)
			return flag.ErrHelp
		}
		return usagef("want 'token create' (see lanscout token -h)")
	}
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprint(e.stderr, tokenUsage); fs.PrintDefaults() }
	data := fs.String("data", "./data", "the server's data directory")
	name := fs.String("name", "", "what the token is for, e.g. the client's name (required)")
	role := fs.String("role", "", "admin, operator or viewer (required)")
	expires := fs.String("expires", "", "lifetime such as 720h or 90d (default: no expiry)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if strings.TrimSpace(*name) == "" {
		return usagef("--name is required")
	}
	if !inventory.Role(*role).Valid() {
		return usagef("--role %q: want admin, operator or viewer", *role)
	}
	var until time.Time
	if *expires != "" {
		d, err := parseLifetime(*expires)
		if err != nil {
			return usageError{err.Error()}
		}
		until = time.Now().Add(d)
	}
	store, err := openExistingStore(ctx, *data)
	if err != nil {
		return err
	}
	defer store.Close()
	tok, t, err := store.CreateAPIToken(ctx, *name, inventory.Role(*role), 0, until)
	if err != nil {
		return err
	}
	if err := store.Audit(ctx, cliAudit("token.create", fmt.Sprintf("token/%d", t.ID), t.Name+" as "+string(t.Role))); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, tok)
	fmt.Fprintf(e.stderr, "API token %q (%s, starts %s) created; it is shown only this once.\n", t.Name, t.Role, t.Prefix)
	return nil
}

// parseLifetime reads a Go duration, or whole days as "90d".
func parseLifetime(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		if _, err := fmt.Sscanf(n, "%d", &days); err == nil && days > 0 && fmt.Sprint(days) == n {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--expires %q: want a duration such as 720h or 90d", s)
	}
	return d, nil
}

func cliAudit(action, target, details string) inventory.AuditEntry {
	return inventory.AuditEntry{Actor: "cli", Action: action, Target: target, Details: details}
}

// openExistingStore opens the server's store, refusing a directory that
// holds none: a mistyped --data must not create an empty inventory beside
// the real one.
func openExistingStore(ctx context.Context, dir string) (*inventory.SQLite, error) {
	if _, err := os.Stat(dataPath(dir, "lanscout.db")); err != nil {
		return nil, fmt.Errorf("no lanscout data in %s (start the server once, or give --data): %w", dir, err)
	}
	return inventory.OpenSQLite(ctx, dir, inventory.Options{})
}

// readPassword asks twice on a terminal, else reads one line of stdin.
func readPassword(e env) (string, error) {
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(e.stderr, "Password: ")
		p1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(e.stderr, "Again: ")
		p2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(p1) != string(p2) {
			return "", errors.New("the passwords differ")
		}
		return string(p1), nil
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on standard input")
	}
	return line, nil
}
