package inventory

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"
)

// SatelliteStore keeps the SSH satellites: hosts the server reaches over
// SSH to send magic packets (and run scans) inside subnets it does not sit
// on. Private keys are sealed like SNMP secrets and only ever come back
// through SatellitePrivateKey. A host key is trusted only once an admin
// confirmed its fingerprint (TrustSatelliteKey); until then it waits as
// the pending key.
type SatelliteStore interface {
	// CreateSatellite validates s (Satellite.Normalize) and stores it with
	// privateKey sealed (nil: none stored; KeyFile names it instead). A
	// taken name is ErrConflict.
	CreateSatellite(ctx context.Context, s Satellite, privateKey []byte) (Satellite, error)
	// UpdateSatellite replaces s.ID's settings. A nil privateKey keeps the
	// stored one; an empty non-nil one removes it. A changed address or
	// port forgets the trusted and pending host keys: another host must be
	// confirmed again.
	UpdateSatellite(ctx context.Context, s Satellite, privateKey []byte) (Satellite, error)
	DeleteSatellite(ctx context.Context, id int64) error
	Satellite(ctx context.Context, id int64) (Satellite, error)
	SatelliteByName(ctx context.Context, name string) (Satellite, error)
	// Satellites lists every satellite by name.
	Satellites(ctx context.Context) ([]Satellite, error)
	// SatellitePrivateKey returns the sealed private key in clear; nil
	// when the satellite has none stored. Only the code that dials uses it.
	SatellitePrivateKey(ctx context.Context, id int64) ([]byte, error)
	// SetSatellitePendingKey records the host key a test connection was
	// offered (authorized_keys form), for an admin to confirm.
	SetSatellitePendingKey(ctx context.Context, id int64, hostKey, fingerprint string) (Satellite, error)
	// TrustSatelliteKey makes the pending key the trusted one when its
	// fingerprint is the one the admin confirmed; ErrConflict when the
	// pending key is another (or none is pending).
	TrustSatelliteKey(ctx context.Context, id int64, fingerprint string) (Satellite, error)
	// SetSatelliteTrustedKey trusts a host key directly, without a pending
	// step: for keys an admin wrote in the server's configuration file,
	// which is their confirmation. An empty hostKey forgets the trusted key.
	SetSatelliteTrustedKey(ctx context.Context, id int64, hostKey, fingerprint string) (Satellite, error)
	// SetSatelliteLanscout records whether lanscout is installed on the
	// satellite (it may then scan).
	SetSatelliteLanscout(ctx context.Context, id int64, has bool) error
}

// Satellite is one SSH satellite as everyone sees it: never its private
// key, only whether one is stored.
type Satellite struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Address string `json:"address"`
	Port    int    `json:"port"`
	User    string `json:"user"`
	// KeyFile is a private key file on the server; "" when the key is
	// stored sealed (HasKey).
	KeyFile string `json:"key_file,omitempty"`
	HasKey  bool   `json:"has_stored_key"`
	// HostKey is the trusted host key (authorized_keys form), "" until an
	// admin confirmed one; Fingerprint is its SHA256:... form.
	HostKey     string `json:"host_key,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	// PendingHostKey is a key offered to a test connection and not yet
	// confirmed (a new satellite, or one whose key changed).
	PendingHostKey     string   `json:"pending_host_key,omitempty"`
	PendingFingerprint string   `json:"pending_fingerprint,omitempty"`
	Subnets            []string `json:"subnets"` // CIDRs it serves
	// WakeCommand is the satellite's own wake command template; "" when
	// it uses the default (satellite.DefaultWakeCommand at the time of
	// the wake).
	WakeCommand string `json:"wake_command"`
	// Interface is the satellite's interface on the subnets it serves,
	// for wake commands with {iface}; "" when they have none.
	Interface   string    `json:"iface,omitempty"`
	HasLanscout bool      `json:"has_lanscout"`
	Source      string    `json:"source"` // "config" (the server's config file) or "api"
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
}

// Trusted reports whether the satellite has a confirmed host key.
func (s Satellite) Trusted() bool { return s.HostKey != "" }

// Serves reports whether the satellite serves a subnet containing p (or
// contained in it).
func (s Satellite) Serves(p netip.Prefix) bool {
	for _, c := range s.Subnets {
		sp, err := netip.ParsePrefix(c)
		if err != nil {
			continue
		}
		if sp.Overlaps(p) {
			return true
		}
	}
	return false
}

var (
	satelliteName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	satelliteUser = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$`)
	satelliteHost = regexp.MustCompile(`^[A-Za-z0-9_.:%-]{1,253}$`)
	// satelliteIface is a Linux interface name, as the satellite package
	// accepts for {iface}.
	satelliteIface = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,15}$`)
)

// Normalize checks s and fills its defaults. The wake command's syntax is
// the satellite package's to check; here it only must be set and name
// {macs}.
func (s *Satellite) Normalize() error {
	s.Name = strings.TrimSpace(s.Name)
	if !satelliteName.MatchString(s.Name) {
		return fmt.Errorf("%w: satellite name %q: 1 to 64 letters, digits, _ . -", ErrInvalid, s.Name)
	}
	s.Address = strings.TrimSpace(s.Address)
	if !satelliteHost.MatchString(s.Address) {
		return fmt.Errorf("%w: satellite address %q is not a host name or IP address", ErrInvalid, s.Address)
	}
	if s.Port == 0 {
		s.Port = 22
	}
	if s.Port < 1 || s.Port > 65535 {
		return fmt.Errorf("%w: satellite port %d: want 1-65535", ErrInvalid, s.Port)
	}
	s.User = strings.TrimSpace(s.User)
	if !satelliteUser.MatchString(s.User) {
		return fmt.Errorf("%w: satellite user %q: a login name", ErrInvalid, s.User)
	}
	s.KeyFile = strings.TrimSpace(s.KeyFile)
	var subnets []string
	for _, c := range s.Subnets {
		p, err := netip.ParsePrefix(strings.TrimSpace(c))
		if err != nil || !p.Addr().Is4() {
			return fmt.Errorf("%w: satellite subnet %q is not an IPv4 CIDR", ErrInvalid, c)
		}
		if c := p.Masked().String(); !slices.Contains(subnets, c) {
			subnets = append(subnets, c)
		}
	}
	s.Subnets = subnets
	if s.Subnets == nil {
		s.Subnets = []string{}
	}
	// An empty wake command is stored empty: the satellite then follows
	// the satellite package's default as it is when a wake runs, rather
	// than a copy of the default of the day it was created (migration
	// 0015 undid such copies).
	s.WakeCommand = strings.Join(strings.Fields(s.WakeCommand), " ")
	if s.WakeCommand != "" && !strings.Contains(s.WakeCommand, "{macs}") {
		return fmt.Errorf("%w: satellite wake command %q must contain {macs}", ErrInvalid, s.WakeCommand)
	}
	s.Interface = strings.TrimSpace(s.Interface)
	if s.Interface != "" && !satelliteIface.MatchString(s.Interface) {
		return fmt.Errorf("%w: satellite interface %q is not an interface name", ErrInvalid, s.Interface)
	}
	if strings.Contains(s.WakeCommand, "{iface}") && s.Interface == "" {
		return fmt.Errorf("%w: satellite wake command %q names {iface}: give the satellite's interface", ErrInvalid, s.WakeCommand)
	}
	if s.Source == "" {
		s.Source = "api"
	}
	if s.Source != "api" && s.Source != "config" {
		return fmt.Errorf("%w: satellite source %q", ErrInvalid, s.Source)
	}
	return nil
}
