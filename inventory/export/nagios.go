package export

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/lanscout/lanscout/typing"
)

// Nagios says how devices become Nagios objects.
type Nagios struct {
	Templates `yaml:",inline"`
	// HostgroupPrefix names the hostgroup of each category:
	// HostgroupPrefix + category. "" means "lanscout-".
	HostgroupPrefix string `yaml:"hostgroup_prefix" json:"hostgroup_prefix"`
}

// Validate checks the names.
func (n Nagios) Validate() error {
	if err := n.Templates.Validate(); err != nil {
		return err
	}
	if n.HostgroupPrefix != "" && sanitizeTemplate(n.HostgroupPrefix+"x") != n.HostgroupPrefix+"x" {
		return fmt.Errorf("hostgroup_prefix %q: only letters, digits, '.', '_' and '-'", n.HostgroupPrefix)
	}
	return nil
}

func (n Nagios) hostgroup(cat typing.Category) string {
	p := n.HostgroupPrefix
	if p == "" {
		p = DefaultTemplatePrefix
	}
	return p + string(cat)
}

// nagiosValue makes s safe as the rest of a Nagios directive line: the
// value runs to the end of the line and ';' starts a comment, so line
// breaks and control characters become spaces and ';' is escaped as
// Nagios reads it, "\;". A trailing backslash would escape nothing useful
// and is dropped with surrounding space, which Nagios trims anyway.
func nagiosValue(s string) string {
	s = strings.ToValidUTF8(s, string(utf8.RuneError))
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == ';':
			b.WriteString(`\;`)
		case r < 0x20 || r == 0x7f:
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return strings.TrimRight(strings.TrimSpace(b.String()), " \\")
}

// WriteNagios writes a host per device, named by HostNames, using its
// category's template and belonging to its category's hostgroup, and the
// hostgroups.
func WriteNagios(w io.Writer, hosts []Host, n Nagios) error {
	bw := bufio.NewWriter(w)
	names := HostNames(hosts)
	fmt.Fprintf(bw, "# Written by lanscout: %d hosts. Edits are lost on the next export.\n", len(hosts))
	fmt.Fprint(bw, "# Each host uses the template of its category; define those templates yourself.\n")
	var cats []typing.Category
	for _, h := range hosts {
		if !slices.Contains(cats, h.Category) {
			cats = append(cats, h.Category)
		}
	}
	// Categories in typing's order, so the file does not reorder itself.
	slices.SortFunc(cats, func(a, b typing.Category) int {
		return slices.Index(typing.Categories, a) - slices.Index(typing.Categories, b)
	})
	for _, c := range cats {
		fmt.Fprintf(bw, "\ndefine hostgroup {\n  hostgroup_name  %s\n  alias           lanscout %s devices\n}\n",
			n.hostgroup(c), c)
	}
	for _, h := range hosts {
		fmt.Fprintf(bw, "\ndefine host {\n")
		line := func(k, v string) {
			if v = nagiosValue(v); v != "" {
				fmt.Fprintf(bw, "  %-24s %s\n", k, v)
			}
		}
		line("use", n.Template(h.Category))
		line("host_name", names[h.ID])
		// The name people know goes into alias and display_name, never
		// into host_name, so a rename changes nothing Nagios keys on.
		line("alias", DisplayName(h))
		line("display_name", DisplayName(h))
		line("address", h.IP)
		line("hostgroups", n.hostgroup(h.Category))
		line("_LANSCOUT_ID", fmt.Sprint(h.ID))
		line("_LANSCOUT_CATEGORY", string(h.Category))
		line("_LANSCOUT_VENDOR", h.Vendor)
		line("_LANSCOUT_MODEL", h.Model)
		line("_LANSCOUT_SYS_NAME", sysName(h.Device))
		line("_LANSCOUT_MAC", h.MAC)
		line("_LANSCOUT_SUBNET", h.Subnet.CIDR)
		line("_LANSCOUT_SITE", h.Subnet.Site)
		if h.SNMP != nil {
			line("_LANSCOUT_SNMP_VERSION", h.SNMP.Version)
			line("_LANSCOUT_SNMP_CREDENTIAL", h.SNMP.Credential)
		}
		fmt.Fprint(bw, "}\n")
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write nagios hosts: %w", err)
	}
	return nil
}
