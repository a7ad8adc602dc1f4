package typing

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/lanscout/lanscout/snmp"
)

// Rule is one piece of typing knowledge: when every condition of When holds
// for a device, the rule fires and votes for Category with Weight, and may
// name the vendor, the model and the serial.
//
// Built-in rules and admin rules have the same form. Admin rules (from a
// --rules file) win over built-in ones: when any fires, the category is the
// admin's.
type Rule struct {
	// ID names the rule in reasons and errors; unique within a file.
	ID string `yaml:"id"`
	// Name is an admin's own type name ("Label printer") shown as
	// Result.Type. Optional.
	Name string `yaml:"name"`
	// Category the rule votes for. Empty for rules that only name a vendor
	// or model.
	Category Category `yaml:"category"`
	// Weight in (0, 1]: how sure the rule alone makes us. Defaults to 1 for
	// admin rules; required for built-in rules with a category.
	Weight float64 `yaml:"weight"`
	// Group names a set of rules that see one fact several ways; in the
	// score a group counts once, with its strongest fired rule.
	Group string `yaml:"group"`
	// Fallback rules count only when no other rule voted: they hold base
	// rates ("an unknown embedded device is most likely network gear"),
	// which must never outvote real evidence, however weak.
	Fallback bool `yaml:"fallback"`
	// When lists the conditions; all must hold.
	When []Cond `yaml:"when"`
	// Reason is the plain-words explanation. Placeholders: {enterprise}
	// (number and registered name), {vendor}, {match} (what the last
	// value condition matched), {oid:N} (the text of object N).
	Reason string `yaml:"reason"`
	// Vendor is a prettier vendor name than the IANA registry's.
	Vendor string `yaml:"vendor"`
	// VendorFrom reads the vendor from the device (UPS-MIB
	// upsIdentManufacturer, ENTITY-MIB entPhysicalMfgName) when Vendor is
	// empty.
	VendorFrom []Extract `yaml:"vendor_from"`
	// Model and Serial are tried in order; the first non-empty wins.
	Model  []Extract `yaml:"model"`
	Serial []Extract `yaml:"serial"`

	admin bool
	line  int
}

// Cond is one condition. Exactly one of its selectors is set:
//
//	enterprise: [318, 534]        sysObjectID is under 1.3.6.1.4.1.N
//	enterprise_name: '(?i)power'  the IANA registry name of that N matches
//	sysobjectid: [1.3.6.1.4.1.9.1] sysObjectID is one of, or under, these
//	sysdescr: '(?i)\bups\b'       sysDescr matches the regex
//	oid: 1.3.6.1.2.1.4.1.0        that object, with a matcher below
//	under: 1.3.6.1.2.1.43         any object under the root, with a matcher
//	count: 1.3.6.1.2.1.2.2.1.3    objects under the root that match, with min/max
//	iftype: 71                    interfaces of that IANAifType, with min/max
//	services: [3]                 sysServices has all these layers
//	lldp: [router]                LLDP enabled (else supported) capabilities include all
//	mac_vendor: '(?i)^axis'       the IEEE vendor of the MAC matches
//	any: [...], all: [...], not: {...}
//
// Matchers for oid/under/count: present (default), equals, contains,
// prefix, regex, and numeric gt, ge, lt, le.
type Cond struct {
	Enterprise  []uint32 `yaml:"enterprise"`
	EntName     string   `yaml:"enterprise_name"`
	SysObjectID []string `yaml:"sysobjectid"`
	SysDescr    string   `yaml:"sysdescr"`
	OID         string   `yaml:"oid"`
	Under       string   `yaml:"under"`
	Count       string   `yaml:"count"`
	IfType      *int64   `yaml:"iftype"`
	Services    []int    `yaml:"services"`
	LLDP        []string `yaml:"lldp"`
	MACVendor   string   `yaml:"mac_vendor"`
	Any         []Cond   `yaml:"any"`
	All         []Cond   `yaml:"all"`
	Not         *Cond    `yaml:"not"`

	Present  *bool   `yaml:"present"`
	Equals   *string `yaml:"equals"`
	Contains string  `yaml:"contains"`
	Prefix   string  `yaml:"prefix"`
	Regex    string  `yaml:"regex"`
	Gt       *int64  `yaml:"gt"`
	Ge       *int64  `yaml:"ge"`
	Lt       *int64  `yaml:"lt"`
	Le       *int64  `yaml:"le"`
	Min      *int    `yaml:"min"`
	Max      *int    `yaml:"max"`

	re *regexp.Regexp // compiled sysdescr, mac_vendor or regex
}

// Extract says where a model or serial comes from: the text of an object,
// the first object under a root, or a sysDescr regex (its first capture
// group). Regex, when set with oid or under, keeps its first capture group
// of that value.
type Extract struct {
	OID      string `yaml:"oid"`
	Under    string `yaml:"under"`
	SysDescr string `yaml:"sysdescr"`
	Regex    string `yaml:"regex"`
	Value    string `yaml:"value"` // a fixed text

	re *regexp.Regexp
}

// ruleFile is the form of a rules file.
type ruleFile struct {
	Rules []Rule `yaml:"rules"`
}

// LoadRules reads admin-defined rules from a YAML file. Unknown keys, bad
// regexes, bad OIDs and unknown categories are errors naming the line.
func LoadRules(path string) ([]Rule, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	rules, err := parseRules(b, true)
	if err != nil {
		return nil, fmt.Errorf("rules %s: %w", path, err)
	}
	return rules, nil
}

// parseRules decodes and validates a rules document.
func parseRules(b []byte, admin bool) ([]Rule, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var f ruleFile
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	// A second pass for the line numbers of each rule, which the typed
	// decode does not keep.
	var doc struct {
		Rules []yaml.Node `yaml:"rules"`
	}
	_ = yaml.Unmarshal(b, &doc)
	seen := map[string]int{}
	for i := range f.Rules {
		r := &f.Rules[i]
		if i < len(doc.Rules) {
			r.line = doc.Rules[i].Line
		}
		r.admin = admin
		if err := r.validate(); err != nil {
			line := r.line
			var ce *condError
			if errors.As(err, &ce) && i < len(doc.Rules) {
				line = condLine(&doc.Rules[i], ce.index)
			}
			return nil, fmt.Errorf("line %d: rule %q: %w", line, r.ID, err)
		}
		if prev, dup := seen[r.ID]; dup {
			return nil, fmt.Errorf("line %d: rule %q: duplicate id (first at line %d)", r.line, r.ID, prev)
		}
		seen[r.ID] = r.line
	}
	return f.Rules, nil
}

// condError names the condition that failed validation, so the loader can
// point at its line.
type condError struct {
	index int
	err   error
}

func (e *condError) Error() string { return fmt.Sprintf("when[%d]: %v", e.index, e.err) }
func (e *condError) Unwrap() error { return e.err }

// condLine returns the line of when[i] in a rule's YAML node, or the rule's
// own line.
func condLine(rule *yaml.Node, i int) int {
	if rule == nil || rule.Kind != yaml.MappingNode {
		return 0
	}
	for k := 0; k+1 < len(rule.Content); k += 2 {
		if rule.Content[k].Value == "when" {
			if seq := rule.Content[k+1]; seq.Kind == yaml.SequenceNode && i < len(seq.Content) {
				return seq.Content[i].Line
			}
		}
	}
	return rule.Line
}

func validCategory(c Category) bool {
	for _, k := range Categories {
		if k == c && c != Unknown {
			return true
		}
	}
	return false
}

func (r *Rule) validate() error {
	if r.ID == "" {
		r.ID = r.Name
	}
	if r.ID == "" {
		return errors.New("needs an id (or, for admin rules, a name)")
	}
	if r.Category != "" && !validCategory(r.Category) {
		return fmt.Errorf("unknown category %q (want one of %s)", r.Category, categoryList())
	}
	if r.admin && r.Category == "" {
		return errors.New("admin rules need a category")
	}
	if r.Weight == 0 && r.admin {
		r.Weight = 1
	}
	if r.Category != "" && (r.Weight <= 0 || r.Weight > 1) {
		return fmt.Errorf("weight %v is not in (0, 1]", r.Weight)
	}
	if len(r.When) == 0 {
		return errors.New("needs at least one condition under when")
	}
	for i := range r.When {
		if err := r.When[i].compile(); err != nil {
			return &condError{index: i, err: err}
		}
	}
	for _, ex := range [][]Extract{r.Model, r.Serial, r.VendorFrom} {
		for i := range ex {
			if err := ex[i].compile(); err != nil {
				return err
			}
		}
	}
	return checkTemplate(r.Reason)
}

func categoryList() string {
	var s []string
	for _, c := range Categories {
		if c != Unknown {
			s = append(s, string(c))
		}
	}
	return strings.Join(s, ", ")
}

// maxRegex bounds regexes from files; Go's engine is linear-time, so the
// bound is about memory, not backtracking.
const maxRegex = 1024

func compileRegex(what, s string) (*regexp.Regexp, error) {
	if len(s) > maxRegex {
		return nil, fmt.Errorf("%s: regex longer than %d bytes", what, maxRegex)
	}
	re, err := regexp.Compile(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return re, nil
}

var lldpBits = map[string]int{
	"other": 0, "repeater": 1, "bridge": 2, "wlanAccessPoint": 3, "router": 4,
	"telephone": 5, "docsisCableDevice": 6, "stationOnly": 7, "cVLAN": 8,
	"sVLAN": 9, "tpmr": 10,
}

func (c *Cond) compile() error {
	selectors := 0
	set := func(ok bool) {
		if ok {
			selectors++
		}
	}
	set(len(c.Enterprise) > 0)
	set(c.EntName != "")
	set(len(c.SysObjectID) > 0)
	set(c.SysDescr != "")
	set(c.OID != "")
	set(c.Under != "")
	set(c.Count != "")
	set(c.IfType != nil)
	set(len(c.Services) > 0)
	set(len(c.LLDP) > 0)
	set(c.MACVendor != "")
	set(len(c.Any) > 0)
	set(len(c.All) > 0)
	set(c.Not != nil)
	if selectors != 1 {
		return fmt.Errorf("a condition needs exactly one of enterprise, enterprise_name, sysobjectid, sysdescr, oid, under, count, iftype, services, lldp, mac_vendor, any, all, not (found %d)", selectors)
	}
	matchers := 0
	for _, ok := range []bool{c.Present != nil, c.Equals != nil, c.Contains != "", c.Prefix != "", c.Regex != "",
		c.Gt != nil || c.Ge != nil || c.Lt != nil || c.Le != nil} {
		if ok {
			matchers++
		}
	}
	valued := c.OID != "" || c.Under != "" || c.Count != ""
	if matchers > 1 {
		return errors.New("use one matcher (present, equals, contains, prefix, regex, or gt/ge/lt/le) per condition")
	}
	if matchers > 0 && !valued {
		return errors.New("matchers (present, equals, contains, prefix, regex, gt, ge, lt, le) apply only to oid, under and count")
	}
	if (c.Min != nil || c.Max != nil) && c.Count == "" && c.IfType == nil {
		return errors.New("min and max apply only to count and iftype")
	}
	var err error
	for i, s := range c.SysObjectID {
		if c.SysObjectID[i], err = snmp.NormalizeOID(s); err != nil {
			return fmt.Errorf("sysobjectid: %w", err)
		}
	}
	for _, p := range []*string{&c.OID, &c.Under, &c.Count} {
		if *p != "" {
			if *p, err = snmp.NormalizeOID(*p); err != nil {
				return err
			}
		}
	}
	switch {
	case c.SysDescr != "":
		c.re, err = compileRegex("sysdescr", c.SysDescr)
	case c.MACVendor != "":
		c.re, err = compileRegex("mac_vendor", c.MACVendor)
	case c.EntName != "":
		c.re, err = compileRegex("enterprise_name", c.EntName)
	case c.Regex != "":
		c.re, err = compileRegex("regex", c.Regex)
	}
	if err != nil {
		return err
	}
	if c.Prefix != "" && valued {
		// An OID-looking prefix is compared arc by arc against OID values;
		// text values compare as text.
		c.Prefix = strings.TrimPrefix(c.Prefix, ".")
	}
	for _, l := range c.Services {
		if l < 1 || l > 7 {
			return fmt.Errorf("services: layer %d is not 1..7", l)
		}
	}
	for _, name := range c.LLDP {
		if _, ok := lldpBits[name]; !ok {
			return fmt.Errorf("lldp: unknown capability %q", name)
		}
	}
	for i := range c.Any {
		if err := c.Any[i].compile(); err != nil {
			return fmt.Errorf("any[%d]: %w", i, err)
		}
	}
	for i := range c.All {
		if err := c.All[i].compile(); err != nil {
			return fmt.Errorf("all[%d]: %w", i, err)
		}
	}
	if c.Not != nil {
		if err := c.Not.compile(); err != nil {
			return fmt.Errorf("not: %w", err)
		}
	}
	return nil
}

func (x *Extract) compile() error {
	n := 0
	for _, s := range []string{x.OID, x.Under, x.SysDescr, x.Value} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return errors.New("model/serial: each entry needs exactly one of oid, under, sysdescr, value")
	}
	var err error
	for _, p := range []*string{&x.OID, &x.Under} {
		if *p != "" {
			if *p, err = snmp.NormalizeOID(*p); err != nil {
				return fmt.Errorf("model/serial: %w", err)
			}
		}
	}
	switch {
	case x.SysDescr != "":
		if x.Regex != "" {
			return errors.New("model/serial: sysdescr is itself a regex; drop regex")
		}
		x.re, err = compileRegex("model/serial sysdescr", x.SysDescr)
	case x.Regex != "":
		x.re, err = compileRegex("model/serial regex", x.Regex)
	}
	if err == nil && x.re != nil && x.re.NumSubexp() < 1 && x.SysDescr != "" {
		err = errors.New("model/serial sysdescr regex needs a capture group")
	}
	return err
}

// checkTemplate rejects unknown placeholders in a reason.
func checkTemplate(s string) error {
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			return nil
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return fmt.Errorf("reason: unclosed {")
		}
		name := s[i+1 : i+j]
		switch {
		case name == "enterprise", name == "vendor", name == "match":
		case strings.HasPrefix(name, "oid:"):
			if _, err := snmp.NormalizeOID(name[4:]); err != nil {
				return fmt.Errorf("reason: %w", err)
			}
		default:
			return fmt.Errorf("reason: unknown placeholder {%s} (want {enterprise}, {vendor}, {match} or {oid:N})", name)
		}
		s = s[i+j+1:]
	}
}

// enterpriseOf returns N of a sysObjectID under 1.3.6.1.4.1.N.
func enterpriseOf(oid string) (uint32, bool) {
	rest, ok := strings.CutPrefix(oid, snmp.OIDEnterprises+".")
	if !ok {
		return 0, false
	}
	arc, _, _ := strings.Cut(rest, ".")
	if len(arc) > 1 && arc[0] == '0' {
		return 0, false // not a canonical arc; agents never send one
	}
	n, err := strconv.ParseUint(arc, 10, 32)
	return uint32(n), err == nil
}
