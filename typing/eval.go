package typing

import (
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lanscout/lanscout/snmp"
)

// facts is the evidence of one device, read once into the forms the
// conditions ask for.
type facts struct {
	ev         *snmp.Evidence
	descr      string
	objectID   string
	enterprise uint32
	hasEnt     bool
	services   int64
	hasSvc     bool
	lldp       []byte
	ifTypes    map[int64]int
	macVendor  string
	sorted     []snmp.Var // every variable in OID order, for subtree lookups
}

// under returns the variables at or below root, in OID order, without
// copying: one binary search instead of a scan of the whole evidence.
func (f *facts) under(root string) []snmp.Var {
	i := sort.Search(len(f.sorted), func(k int) bool { return snmp.CompareOID(f.sorted[k].Name, root) >= 0 })
	j := i
	for j < len(f.sorted) && snmp.HasPrefix(f.sorted[j].Name, root) {
		j++
	}
	return f.sorted[i:j]
}

func newFacts(in Input) *facts {
	f := &facts{ev: in.Evidence, macVendor: in.MACVendor, ifTypes: map[int64]int{}}
	if f.ev == nil {
		f.ev = snmp.NewEvidence()
	}
	f.sorted = make([]snmp.Var, 0, len(f.ev.Vars))
	for _, v := range f.ev.Vars {
		f.sorted = append(f.sorted, v)
	}
	sort.Slice(f.sorted, func(i, j int) bool { return snmp.CompareOID(f.sorted[i].Name, f.sorted[j].Name) < 0 })
	f.descr = textOf(f.ev, snmp.OIDSysDescr)
	f.objectID = f.ev.ObjectID(snmp.OIDSysObjectID)
	f.enterprise, f.hasEnt = enterpriseOf(f.objectID)
	f.services, f.hasSvc = f.ev.Number(snmp.OIDSysServices)
	for _, oid := range []string{snmp.OIDLldpLocSysCapEnabled, snmp.OIDLldpLocSysCapSupported} {
		if v, ok := f.ev.Get(oid); ok && len(v.Bytes) > 0 && !allZero(v.Bytes) {
			f.lldp = v.Bytes
			break
		}
	}
	for _, v := range f.under(snmp.OIDIfType) {
		if n, ok := v.Number(); ok {
			f.ifTypes[n]++
		}
	}
	return f
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// textOf reads an object as text. Unlike Var.Text, an octet string that is
// mostly printable keeps its text with the odd bytes as spaces: vendors put
// Latin-1 bytes and control characters into sysDescr.
func textOf(ev *snmp.Evidence, oid string) string {
	v, ok := ev.Get(oid)
	if !ok {
		return ""
	}
	return varText(v)
}

func varText(v snmp.Var) string {
	if v.Kind != snmp.OctetString && v.Kind != snmp.Opaque {
		return v.Text()
	}
	b := v.Bytes
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	if utf8.Valid(b) && printable(string(b)) {
		return strings.TrimSpace(string(b))
	}
	good := 0
	var sb strings.Builder
	for _, c := range b {
		if c >= 0x20 && c < 0x7f || c == '\n' || c == '\r' || c == '\t' {
			good++
			sb.WriteByte(c)
		} else {
			sb.WriteByte(' ')
		}
	}
	if len(b) > 0 && good*10 >= len(b)*8 {
		return strings.TrimSpace(sb.String())
	}
	return v.Text()
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' {
			return false
		}
	}
	return true
}

// eval reports whether c holds, and the text it matched (for reasons).
func (f *facts) eval(c *Cond) (bool, string) {
	switch {
	case len(c.Enterprise) > 0:
		if !f.hasEnt {
			return false, ""
		}
		for _, n := range c.Enterprise {
			if n == f.enterprise {
				return true, f.objectID
			}
		}
		return false, ""
	case c.EntName != "":
		if !f.hasEnt {
			return false, ""
		}
		name, ok := EnterpriseName(f.enterprise)
		if !ok || !c.re.MatchString(name) {
			return false, ""
		}
		return true, name
	case len(c.SysObjectID) > 0:
		if f.objectID == "" {
			return false, ""
		}
		for _, p := range c.SysObjectID {
			if snmp.HasPrefix(f.objectID, p) {
				return true, f.objectID
			}
		}
		return false, ""
	case c.SysDescr != "":
		if f.descr == "" {
			return false, ""
		}
		loc := c.re.FindStringIndex(f.descr)
		if loc == nil {
			return false, ""
		}
		return true, wordAround(f.descr, loc[0], loc[1])
	case c.OID != "":
		v, ok := f.ev.Get(c.OID)
		if !ok {
			return c.Present != nil && !*c.Present, ""
		}
		return c.match(v)
	case c.Under != "":
		vars := f.under(c.Under)
		if len(vars) == 0 {
			return c.Present != nil && !*c.Present, ""
		}
		for _, v := range vars {
			if ok, m := c.match(v); ok {
				return true, m
			}
		}
		return false, ""
	case c.Count != "":
		n := 0
		for _, v := range f.under(c.Count) {
			if ok, _ := c.match(v); ok {
				n++
			}
		}
		return c.inRange(n), strconv.Itoa(n)
	case c.IfType != nil:
		n := f.ifTypes[*c.IfType]
		return c.inRange(n), strconv.Itoa(n)
	case len(c.Services) > 0:
		if !f.hasSvc {
			return false, ""
		}
		for _, l := range c.Services {
			if f.services&(1<<(l-1)) == 0 {
				return false, ""
			}
		}
		return true, strconv.FormatInt(f.services, 10)
	case len(c.LLDP) > 0:
		if f.lldp == nil {
			return false, ""
		}
		for _, name := range c.LLDP {
			bit := lldpBits[name]
			if bit/8 >= len(f.lldp) || f.lldp[bit/8]&(0x80>>(bit%8)) == 0 {
				return false, ""
			}
		}
		return true, strings.Join(c.LLDP, "+")
	case c.MACVendor != "":
		if f.macVendor == "" || !c.re.MatchString(f.macVendor) {
			return false, ""
		}
		return true, f.macVendor
	case len(c.Any) > 0:
		for i := range c.Any {
			if ok, m := f.eval(&c.Any[i]); ok {
				return true, m
			}
		}
		return false, ""
	case len(c.All) > 0:
		m := ""
		for i := range c.All {
			ok, mi := f.eval(&c.All[i])
			if !ok {
				return false, ""
			}
			if mi != "" {
				m = mi
			}
		}
		return true, m
	case c.Not != nil:
		ok, _ := f.eval(c.Not)
		return !ok, ""
	}
	return false, ""
}

func (c *Cond) inRange(n int) bool {
	if c.Min == nil && c.Max == nil {
		return n >= 1
	}
	if c.Min != nil && n < *c.Min {
		return false
	}
	if c.Max != nil && n > *c.Max {
		return false
	}
	return true
}

// match applies the condition's matcher to one value.
func (c *Cond) match(v snmp.Var) (bool, string) {
	t := varText(v)
	switch {
	case c.Present != nil:
		return *c.Present, t
	case c.Equals != nil:
		return t == *c.Equals, t
	case c.Contains != "":
		return strings.Contains(strings.ToLower(t), strings.ToLower(c.Contains)), t
	case c.Prefix != "":
		if v.Kind == snmp.ObjectID {
			return snmp.HasPrefix(v.OID, c.Prefix), t
		}
		return strings.HasPrefix(t, c.Prefix), t
	case c.re != nil:
		m := c.re.FindString(t)
		if m == "" && !c.re.MatchString(t) {
			return false, ""
		}
		if m == "" {
			m = t
		}
		return true, m
	case c.Gt != nil || c.Ge != nil || c.Lt != nil || c.Le != nil:
		n, ok := v.Number()
		if !ok {
			x, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
			if err != nil {
				return false, ""
			}
			n = x
		}
		if c.Gt != nil && !(n > *c.Gt) || c.Ge != nil && !(n >= *c.Ge) ||
			c.Lt != nil && !(n < *c.Lt) || c.Le != nil && !(n <= *c.Le) {
			return false, ""
		}
		return true, t
	}
	return true, t // present by default
}

// wordAround widens a regex match to the whole words it touches, so a
// reason quotes "DAP-2230" rather than the "DAP-2" the pattern needed.
func wordAround(s string, i, j int) string {
	stop := func(c byte) bool {
		return c == ' ' || c == ',' || c == ';' || c == '\n' || c == '\t' || c == '(' || c == ')'
	}
	for i > 0 && !stop(s[i-1]) && j > i {
		i--
	}
	for j < len(s) && !stop(s[j]) && j > i {
		j++
	}
	return s[i:j]
}

// extract returns the first non-empty value the extracts yield.
func (f *facts) extract(xs []Extract) string {
	for i := range xs {
		if s := f.extractOne(&xs[i]); s != "" {
			return s
		}
	}
	return ""
}

func (f *facts) extractOne(x *Extract) string {
	var s string
	switch {
	case x.Value != "":
		return x.Value
	case x.SysDescr != "":
		if m := x.re.FindStringSubmatch(f.descr); len(m) > 1 {
			return cleanValue(m[1])
		}
		return ""
	case x.OID != "":
		s = textOf(f.ev, x.OID)
	case x.Under != "":
		for _, v := range f.under(x.Under) {
			if s = varText(v); cleanValue(s) != "" {
				break
			}
		}
	}
	if x.re != nil {
		m := x.re.FindStringSubmatch(s)
		if len(m) < 2 {
			return ""
		}
		s = m[1]
	}
	return cleanValue(s)
}

// cleanValue trims a model or serial and drops placeholders agents use for
// "none".
func cleanValue(s string) string {
	s = strings.TrimSpace(strings.Trim(s, "\x00"))
	if len(s) > 128 {
		s = s[:128]
	}
	switch strings.ToLower(s) {
	case "", "unknown", "n/a", "na", "none", "not available", "0", "-", "default string", "to be filled by o.e.m.", "<private>":
		return ""
	}
	return s
}
