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
// Icinga and Nagios key hosts by name, and renaming a host loses its
// history there, so names must not move between runs. A host is named
// after the device's name (the admin's, else sysName, else its DNS name),
// lower-cased and cut to the characters both tools accept; a device with
// no name is named after its MAC, else its address. Devices whose names
// collide all get their MAC (else address) appended, so which one was
// listed first never decides who keeps the bare name.
package export

import (
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

// idOf is the part of a device that tells it apart when names collide:
// its MAC without separators, else its address.
func idOf(d inventory.Device) string {
	if d.MAC != "" {
		return strings.ReplaceAll(d.MAC, ":", "")
	}
	return strings.NewReplacer(".", "-", ":", "-").Replace(d.IP)
}

// HostNames returns a stable, unique object name per device id.
func HostNames(hosts []Host) map[int64]string {
	base := make(map[int64]string, len(hosts))
	count := map[string]int{}
	for _, h := range hosts {
		n := sanitize(h.Name)
		if n == "" {
			n = "host-" + idOf(h.Device)
		}
		base[h.ID] = n
		count[n]++
	}
	out := make(map[int64]string, len(hosts))
	used := map[string]int64{}
	for _, h := range hosts {
		n := base[h.ID]
		if count[n] > 1 {
			suffix := "-" + idOf(h.Device)
			if len(n)+len(suffix) > maxName {
				n = strings.Trim(n[:maxName-len(suffix)], "-.")
			}
			n += suffix
		}
		// A suffixed name can still meet another device's bare name, or
		// two devices share a MAC across subnets: the id settles it.
		if _, taken := used[n]; taken {
			n = fmt.Sprintf("%s-%d", n, h.ID)
		}
		used[n] = h.ID
		out[h.ID] = n
	}
	return out
}

// sysName is the device's sysName, "" when it never answered SNMP.
func sysName(d inventory.Device) string {
	if d.SNMP == nil {
		return ""
	}
	return d.SNMP.SysName
}
