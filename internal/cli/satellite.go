package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/satellite"
	"github.com/lanscout/lanscout/web"
)

const satelliteUsage = `Usage:
  lanscout satellite check [--data DIR] NAME
  lanscout satellite check --address HOST [--port N] --user USER --key FILE [--host-key KEY] [--wake-command CMD]

Tests an SSH satellite from the shell: connects, shows the host key's
fingerprint and whether it is the trusted one, logs in (only when it is),
and looks for the wake command's program and for lanscout there. NAME is a
satellite of the server whose data directory is --data; or describe one
with the flags. Nothing is changed: a new key is trusted by an admin in the
UI (Satellites, Test connection, Trust) or with host_key in the config.

Exit status: 0 the satellite is ready to wake, 1 it is not (the output
says why), 2 bad command line.

Flags:
`

func runSatellite(ctx context.Context, e env, args []string) int {
	return exitCode(e.stderr, "satellite", satelliteCommand(ctx, e, args))
}

func satelliteCommand(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "check" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprint(e.stderr, satelliteUsage)
			return flag.ErrHelp
		}
		return usagef("want 'satellite check' (see lanscout satellite -h)")
	}
	fs := flag.NewFlagSet("satellite check", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprint(e.stderr, satelliteUsage); fs.PrintDefaults() }
	data := fs.String("data", "./data", "the server's data directory")
	address := fs.String("address", "", "satellite host name or address (instead of NAME)")
	port := fs.Int("port", 22, "SSH port")
	user := fs.String("user", "", "SSH user")
	keyFile := fs.String("key", "", "private key file")
	hostKey := fs.String("host-key", "", "trusted host key, as in a .pub or known_hosts file")
	wakeCmd := fs.String("wake-command", satellite.DefaultWakeCommand, "wake command template")
	timeout := fs.Duration("timeout", 10*time.Second, "connect and handshake timeout")
	rest, err := parseInterspersed(fs, args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	var cfg satellite.Config
	switch {
	case *address != "" && len(rest) == 0:
		if *user == "" || *keyFile == "" {
			return usagef("--address needs --user and --key")
		}
		cfg = satellite.Config{Name: *address, Address: *address, Port: *port, User: *user, WakeCommand: *wakeCmd}
		if cfg.Signer, err = satellite.LoadPrivateKey(*keyFile); err != nil {
			return err
		}
		if *hostKey != "" {
			if cfg.HostKey, err = satellite.ParseHostKey(*hostKey); err != nil {
				return usageError{err.Error()}
			}
		}
	case *address == "" && len(rest) == 1:
		if cfg, err = storedSatelliteConfig(ctx, *data, rest[0]); err != nil {
			return err
		}
	default:
		return usagef("give one satellite NAME, or --address with --user and --key")
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err.Error()}
	}
	cfg.ConnectTimeout = *timeout
	res, err := satellite.Probe(ctx, cfg)
	if err != nil {
		return err
	}
	return printProbe(e.stdout, cfg, res)
}

// storedSatelliteConfig reads a satellite of the server's store, key
// included.
func storedSatelliteConfig(ctx context.Context, dir, name string) (satellite.Config, error) {
	store, err := openExistingStore(ctx, dir)
	if err != nil {
		return satellite.Config{}, err
	}
	defer store.Close()
	sat, err := store.SatelliteByName(ctx, name)
	if errors.Is(err, inventory.ErrNotFound) {
		return satellite.Config{}, fmt.Errorf("no satellite named %q in %s", name, dir)
	}
	if err != nil {
		return satellite.Config{}, err
	}
	return web.SatelliteConfig(ctx, store, sat)
}

// printProbe says what the probe found and whether the satellite is
// ready; an error (exit 1) when it is not.
func printProbe(w io.Writer, cfg satellite.Config, r satellite.ProbeResult) error {
	fmt.Fprintf(w, "satellite   %s\n", r.Address)
	fmt.Fprintf(w, "host key    %s\n", r.Fingerprint)
	switch {
	case r.Changed:
		fmt.Fprintf(w, "            HOST KEY CHANGED: trusted %s. Refusing to log in.\n", r.TrustedKey)
		return fmt.Errorf("the host key of %s changed: someone may be intercepting the connection, or the host was reinstalled; check it, then trust the new key", r.Address)
	case !r.Trusted:
		fmt.Fprintf(w, "            not trusted yet: compare it with 'ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub' on the satellite,\n")
		fmt.Fprintf(w, "            then trust it in the UI or set host_key: %q\n", r.HostKey)
		return errors.New("the host key is not trusted yet")
	}
	fmt.Fprintf(w, "            trusted\n")
	if !r.LoggedIn {
		fmt.Fprintf(w, "login       FAILED: %s\n", r.LoginError)
		return fmt.Errorf("cannot log in as %s", cfg.User)
	}
	fmt.Fprintf(w, "login       ok as %s\n", cfg.User)
	lan := r.LanscoutPath
	if lan == "" {
		lan = "not installed (the satellite can wake but not scan)"
	}
	if r.WakeProgramPath == "" {
		fmt.Fprintf(w, "wake        %s: NOT FOUND on the satellite (Debian: apt install wakeonlan)\n", r.WakeProgram)
		fmt.Fprintf(w, "lanscout    %s\n", lan)
		return fmt.Errorf("the wake command's program %s is not installed on the satellite", r.WakeProgram)
	}
	cmd := cfg.WakeCommand
	if cmd == "" {
		cmd = "default: " + satellite.DefaultWakeCommand
	}
	fmt.Fprintf(w, "wake        %s (%s)\n", r.WakeProgramPath, cmd)
	fmt.Fprintf(w, "lanscout    %s\n", lan)
	return nil
}

// satelliteEntry is one satellite of the server's configuration file:
//
//	satellites:
//	  - name: branch-1
//	    address: 10.20.0.5
//	    port: 22                      # default 22
//	    user: wol
//	    key_file: /etc/lanscout/satellite_ed25519
//	    host_key: "ssh-ed25519 AAAA..." # trusted as written; omit to confirm it in the UI
//	    subnets: [10.20.0.0/24, 10.21.0.0/24]
//	    wake_command: "wakeonlan -i {broadcast} -p {port} {macs}"   # the default
//	    iface: eth0                   # for a wake_command with {iface}
type satelliteEntry struct {
	Name        string   `yaml:"name"`
	Address     string   `yaml:"address"`
	Port        int      `yaml:"port"`
	User        string   `yaml:"user"`
	KeyFile     string   `yaml:"key_file"`
	HostKey     string   `yaml:"host_key"`
	Subnets     []string `yaml:"subnets"`
	WakeCommand string   `yaml:"wake_command"`
	Interface   string   `yaml:"iface"`
}

// satellite returns the entry as the store keeps it.
func (s satelliteEntry) satellite() inventory.Satellite {
	return inventory.Satellite{Name: s.Name, Address: s.Address, Port: s.Port, User: s.User, KeyFile: s.KeyFile,
		Subnets: s.Subnets, WakeCommand: s.WakeCommand, Interface: s.Interface, Source: "config"}
}

// validateSatellites checks every entry fully before the server opens
// anything: names, addresses, subnets, the wake command, the host key and
// that the key file holds a usable key.
func validateSatellites(entries []satelliteEntry) error {
	seen := map[string]bool{}
	for i, e := range entries {
		sat := e.satellite()
		if err := sat.Normalize(); err != nil {
			return fmt.Errorf("satellites[%d]: %s", i, plainStoreError(err))
		}
		where := fmt.Sprintf("satellites[%d] (%s)", i, sat.Name)
		if seen[sat.Name] {
			return fmt.Errorf("%s: the name is used twice", where)
		}
		seen[sat.Name] = true
		if sat.WakeCommand != "" { // "": the default, resolved when a wake runs
			if _, err := satellite.ParseTemplate(sat.WakeCommand); err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
		}
		if e.KeyFile == "" {
			return fmt.Errorf("%s: key_file is required (keys given in the UI are stored sealed instead)", where)
		}
		if _, err := satellite.LoadPrivateKey(e.KeyFile); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if e.HostKey != "" {
			if _, err := satellite.ParseHostKey(e.HostKey); err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
		}
	}
	return nil
}

// plainStoreError drops the "invalid: " the store puts in front.
func plainStoreError(err error) string {
	msg := err.Error()
	if p := inventory.ErrInvalid.Error() + ": "; len(msg) > len(p) && msg[:len(p)] == p {
		return msg[len(p):]
	}
	return msg
}

// applySatellites stores the configured satellites, creating or updating
// each by name: the file wins over what the UI changed for them. A
// host_key in the file is trusted as written (writing it there is the
// admin's confirmation); without one, a key confirmed in the UI is kept.
// Satellites no longer in the file are left alone.
func applySatellites(entries []satelliteEntry, d serverDeps) error {
	if len(entries) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, e := range entries {
		sat := e.satellite()
		old, err := d.store.SatelliteByName(ctx, sat.Name)
		switch {
		case errors.Is(err, inventory.ErrNotFound):
			sat, err = d.store.CreateSatellite(ctx, sat, nil)
		case err == nil:
			sat.ID = old.ID
			// The file names a key file: a key stored from the UI goes.
			sat, err = d.store.UpdateSatellite(ctx, sat, []byte{})
		}
		if err != nil {
			return fmt.Errorf("satellite %s: %w", e.Name, err)
		}
		if e.HostKey != "" {
			k, _ := satellite.ParseHostKey(e.HostKey)
			if sat.HostKey != satellite.FormatHostKey(k) {
				if sat, err = d.store.SetSatelliteTrustedKey(ctx, sat.ID, satellite.FormatHostKey(k), satellite.Fingerprint(k)); err != nil {
					return fmt.Errorf("satellite %s: %w", e.Name, err)
				}
				if err := d.store.Audit(ctx, inventory.AuditEntry{Actor: "config", Action: "satellite.trust",
					Target: fmt.Sprintf("satellite/%d", sat.ID), Details: sat.Name + " host key " + sat.Fingerprint + " from the configuration file"}); err != nil {
					return err
				}
			}
		}
		d.logger.Info("satellite from the configuration", "name", sat.Name, "address", sat.Address, "subnets", sat.Subnets,
			"host_key", sat.Fingerprint)
	}
	return nil
}
