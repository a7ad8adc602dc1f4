// Package export turns the inventory into what monitoring systems read:
// Prometheus service discovery JSON (HTTP SD and file SD are the same
// document), Icinga 2 Host objects, Nagios host and hostgroup definitions,
// and the device list as CSV and JSON. Both `lanscout export` and the
// server's download endpoints write through it, so a file and a download
// of the same inventory are byte for byte the same.
//
// It is a view of the model and nothing more: it reads devices through
// the two store methods it needs ([Source]) and writes to an io.Writer. It
// must not know HTTP, the web UI or how a file is put in place (the CLI
// writes atomically; the server streams).
//
// # Names
//
// Icinga and Nagios key hosts by object name, and renaming a host loses
// its state and history there, so a host's name comes from the device's
// own identity in the inventory and from nothing else: not its name
// (admins rename devices, DNS and sysName change), not its category, and
// not the other devices in the export. A device with a MAC is named
// after the MAC and its subnet, 001ba9000001-10.0.0.0-24, since the store
// keeps one device per MAC in each subnet (an L3 switch answers with one
// MAC in every VLAN); a device without one is named after its address
// (10.0.0.5, fd00--5 for fd00::5), which is unique because subnets never
// overlap. So adding a device of the same name, a twin going gone, a
// filtered export or a renamed device leave every other name as it was.
// The name changes only when the device's identity does: when a device
// first seen across a router has its MAC learnt, or its NIC is replaced.
// The friendly name goes into display_name (and the Nagios alias).
package export

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/typing"
)

// Source is the part of the store an export reads.
type Source interface {
	Subnets(ctx context.Context) ([]inventory.Subnet, error)
	EachDevice(ctx context.Context, q inventory.DeviceQuery, fn func(inventory.Device) error) error
}

// Host is one device with its subnet, as the exports see it.
type Host struct {
	inventory.Device
	Subnet inventory.Subnet
}

// Filter selects the devices of an export. Zero fields do not filter;
// lists match any of their values.
type Filter struct {
	Categories []typing.Category
	// Subnets are subnet ids or CIDRs.
	Subnets []string
	Sites   []string
	// State is "up", "gone" or "" for both.
	State inventory.DeviceState
	// SNMPOnly keeps devices that ever answered SNMP.
	SNMPOnly bool
}

// Validate checks the filter's values and says what is wrong in words.
func (f Filter) Validate() error {
	for _, c := range f.Categories {
		if !slices.Contains(typing.Categories, c) {
			return fmt.Errorf("unknown category %q", c)
		}
	}
	switch f.State {
	case "", inventory.StateUp, inventory.StateGone:
	default:
		return fmt.Errorf("state %q is not up, gone or all", f.State)
	}
	for _, s := range f.Subnets {
		if _, err := strconv.ParseInt(s, 10, 64); err == nil {
			continue
		}
		if _, err := netip.ParsePrefix(s); err != nil {
			return fmt.Errorf("subnet %q is neither a subnet id nor a CIDR", s)
		}
	}
	return nil
}

// ParseList splits repeated and comma-separated values ("a,b" "c") into
// one list, dropping empty ones.
func ParseList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				out = append(out, f)
			}
		}
	}
	return out
}

// Collect reads the hosts the filter selects, in address order.
func Collect(ctx context.Context, src Source, f Filter) ([]Host, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	subnets, err := src.Subnets(ctx)
	if err != nil {
		return nil, fmt.Errorf("export: list subnets: %w", err)
	}
	byID := make(map[int64]inventory.Subnet, len(subnets))
	keep := map[int64]bool{}
	for _, sn := range subnets {
		byID[sn.ID] = sn
		ok := len(f.Sites) == 0 || slices.ContainsFunc(f.Sites, func(s string) bool { return strings.EqualFold(s, sn.Site) })
		if ok && len(f.Subnets) > 0 {
			ok = slices.ContainsFunc(f.Subnets, func(s string) bool {
				if id, err := strconv.ParseInt(s, 10, 64); err == nil {
					return id == sn.ID
				}
				p, err := netip.ParsePrefix(s)
				return err == nil && p.Masked().String() == sn.CIDR
			})
		}
		keep[sn.ID] = ok
	}
	q := inventory.DeviceQuery{State: f.State, Sort: inventory.SortIP, AnsweredSNMP: f.SNMPOnly}
	// SNMP, and one category, are pushed down to the store; lists are
	// filtered here.
	if len(f.Categories) == 1 {
		q.Category = f.Categories[0]
	}
	hosts := []Host{}
	err = src.EachDevice(ctx, q, func(d inventory.Device) error {
		if !keep[d.SubnetID] {
			return nil
		}
		if len(f.Categories) > 1 && !slices.Contains(f.Categories, d.Category) {
			return nil
		}
		hosts = append(hosts, Host{Device: d, Subnet: byID[d.SubnetID]})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("export: read devices: %w", err)
	}
	return hosts, nil
}

// maxName keeps names within what both tools and people handle.
const maxName = 63

// sanitize keeps letters, digits, '.', '_' and '-', lower-cased; every
// other run of characters becomes one '-'. Both Icinga 2 and Nagios
// accept the result as an object name unquoted in any context.
func sanitize(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
			dash = r == '-'
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	out := strings.Trim(b.String(), "-.")
	if len(out) > maxName {
		out = strings.Trim(out[:maxName], "-.")
	}
	return out
}

// addrName writes an address or prefix with ':' and '/' as '-', which
// neither tool minds and which is one to one: IPv6 text has no '-'.
func addrName(s string) string {
	return strings.NewReplacer(":", "-", "/", "-").Replace(strings.ToLower(s))
}

// HostName is the Icinga 2 and Nagios object name of h, from its
// identity alone (see the package documentation): "<MAC as 12 hex
// digits>-<subnet>" when it has a MAC, else its address. Names never
// need cutting (at most 12+1+43 characters) and never meet: a MAC name
// starts with 12 hex digits and a dash, which no IPv4 or IPv6 address
// does, and the identities the store keeps unique map one to one.
func HostName(h Host) string {
	var n string
	switch mac := sanitize(strings.ReplaceAll(h.MAC, ":", "")); {
	case mac != "":
		subnet := sanitize(addrName(h.Subnet.CIDR))
		if subnet == "" {
			// Not in a subnet the export read: the subnet's id is
			// still the device's own.
			subnet = "subnet" + strconv.FormatInt(h.SubnetID, 10)
		}
		n = mac + "-" + subnet
	default:
		if a, err := netip.ParseAddr(h.IP); err == nil {
			n = addrName(a.Unmap().String())
		} else {
			n = sanitize(addrName(h.IP))
		}
	}
	if n == "" {
		n = "device-" + strconv.FormatInt(h.ID, 10)
	}
	// '_' is HostNames' own, whatever odd MAC or address came in.
	return strings.ReplaceAll(n, "_", "-")
}

// HostNames returns the object name of each device id. Names are
// HostName's; should the store ever hold two devices of one identity
// (address-keyed devices have no unique index), the one recorded first
// (lowest id) keeps the name and the others get "_<id>" appended, so
// neither tool refuses the file and a newer device never renames an
// older one. No HostName holds a '_', so the suffix meets no other name.
func HostNames(hosts []Host) map[int64]string {
	byID := slices.Clone(hosts)
	slices.SortFunc(byID, func(a, b Host) int { return cmp.Compare(a.ID, b.ID) })
	out := make(map[int64]string, len(hosts))
	used := make(map[string]bool, len(hosts))
	for _, h := range byID {
		n := HostName(h)
		if used[n] {
			n += "_" + strconv.FormatInt(h.ID, 10)
		}
		used[n] = true
		out[h.ID] = n
	}
	return out
}

// DisplayName is what people call the device: its name (the admin's,
// else sysName, else its DNS name), else its address.
func DisplayName(h Host) string {
	if h.Name != "" {
		return h.Name
	}
	return h.IP
}

// sysName is the device's sysName, "" when it never answered SNMP.
func sysName(d inventory.Device) string {
	if d.SNMP == nil {
		return ""
	}
	return d.SNMP.SysName
}
