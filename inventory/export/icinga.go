package export

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lanscout/lanscout/typing"
)

// Templates names the template a host of each category imports (Icinga 2)
// or uses (Nagios), where admins attach their checks.
type Templates struct {
	// ByCategory maps a category to a template name.
	ByCategory map[typing.Category]string `yaml:"templates" json:"templates"`
	// Prefix names the template of a category ByCategory leaves out:
	// Prefix + category. "" means "lanscout-".
	Prefix string `yaml:"template_prefix" json:"template_prefix"`
}

// DefaultTemplatePrefix is the prefix of default template names, e.g.
// "lanscout-switch".
const DefaultTemplatePrefix = "lanscout-"

// Template returns the template name of a category.
func (t Templates) Template(cat typing.Category) string {
	if n := t.ByCategory[cat]; n != "" {
		return n
	}
	p := t.Prefix
	if p == "" {
		p = DefaultTemplatePrefix
	}
	return p + string(cat)
}

// Validate checks the names: they go into the files unquoted by Nagios.
func (t Templates) Validate() error {
	for cat, n := range t.ByCategory {
		if !validCategory(string(cat)) {
			return fmt.Errorf("templates: unknown category %q", cat)
		}
		if n == "" || sanitizeTemplate(n) != n {
			return fmt.Errorf("templates: %s: %q is not a name of letters, digits, '.', '_' and '-'", cat, n)
		}
	}
	if t.Prefix != "" && sanitizeTemplate(t.Prefix+"x") != t.Prefix+"x" {
		return fmt.Errorf("template_prefix %q: only letters, digits, '.', '_' and '-'", t.Prefix)
	}
	return nil
}

func sanitizeTemplate(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return -1
	}, s)
}

// icingaString quotes s as an Icinga 2 DSL string: backslash escapes for
// the quote, the backslash and control characters, so that no device
// name can end the string and write configuration of its own. Invalid
// UTF-8 becomes U+FFFD.
func icingaString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range strings.ToValidUTF8(s, string(utf8.RuneError)) {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '$':
			// Icinga expands $macros$ in attribute strings and refuses
			// an unclosed one; "$$" is a literal dollar.
			b.WriteString("$$")
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 || r == 0x7f {
				// The lexer knows no \xNN escape; such bytes say nothing.
				b.WriteByte(' ')
				continue
			}
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// WriteIcinga2 writes one Host object per device, named by HostNames
// and showing DisplayName. Hosts import the
// template of their category and carry what lanscout knows in vars, so
// apply rules can match on them (vars.lanscout_snmp_version, say).
func WriteIcinga2(w io.Writer, hosts []Host, t Templates) error {
	bw := bufio.NewWriter(w)
	names := HostNames(hosts)
	fmt.Fprintf(bw, "// Written by lanscout: %d hosts. Edits are lost on the next export.\n", len(hosts))
	fmt.Fprint(bw, "// Each host imports the template of its category; define those templates yourself.\n")
	for _, h := range hosts {
		fmt.Fprintf(bw, "\nobject Host %s {\n", icingaString(names[h.ID]))
		fmt.Fprintf(bw, "  import %s\n", icingaString(t.Template(h.Category)))
		addr := "address"
		if a, err := netip.ParseAddr(h.IP); err == nil && a.Is6() && !a.Is4In6() {
			addr = "address6"
		}
		fmt.Fprintf(bw, "  %s = %s\n", addr, icingaString(h.IP))
		// The name people know goes here, never into the object
		// name, so a rename changes nothing Icinga keys on.
		fmt.Fprintf(bw, "  display_name = %s\n", icingaString(DisplayName(h)))
		vars := [][2]string{
			{"lanscout_id", strconv.FormatInt(h.ID, 10)},
			{"lanscout_category", string(h.Category)},
			{"lanscout_vendor", h.Vendor},
			{"lanscout_model", h.Model},
			{"lanscout_sys_name", sysName(h.Device)},
			{"lanscout_mac", h.MAC},
			{"lanscout_subnet", h.Subnet.CIDR},
			{"lanscout_site", h.Subnet.Site},
			{"lanscout_state", string(h.State)},
		}
		if h.SNMP != nil {
			vars = append(vars, [2]string{"lanscout_snmp_version", h.SNMP.Version},
				[2]string{"lanscout_snmp_credential", h.SNMP.Credential})
		}
		for _, v := range vars {
			fmt.Fprintf(bw, "  vars.%s = %s\n", v[0], icingaString(v[1]))
		}
		fmt.Fprint(bw, "}\n")
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write icinga2 hosts: %w", err)
	}
	return nil
}
