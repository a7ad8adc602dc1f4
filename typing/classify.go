package typing

import (
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/lanscout/lanscout/snmp"
)

// Options configure a Classifier.
type Options struct {
	// AdminRules are admin-defined types; they win over built-in rules.
	AdminRules []Rule
	// RulesFile, when set, is read with LoadRules and added after
	// AdminRules.
	RulesFile string
	// Logger receives a debug line per classification; nil discards.
	Logger *slog.Logger
}

// Classifier types devices. It is immutable after New and safe for
// concurrent use.
type Classifier struct {
	builtin []Rule
	admin   []Rule
	log     *slog.Logger
}

//go:embed rules/*.yaml
var rulesFS embed.FS

// builtinRules parses the embedded rule files once.
var builtinRules = sync.OnceValues(func() ([]Rule, error) {
	names, err := fs.Glob(rulesFS, "rules/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var all []Rule
	seen := map[string]string{}
	for _, name := range names {
		b, err := rulesFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		rules, err := parseRules(b, false)
		if err != nil {
			return nil, fmt.Errorf("built-in %s: %w", name, err)
		}
		for _, r := range rules {
			if prev, dup := seen[r.ID]; dup {
				return nil, fmt.Errorf("built-in %s: rule %q already defined in %s", name, r.ID, prev)
			}
			seen[r.ID] = name
		}
		all = append(all, rules...)
	}
	return all, nil
})

// BuiltinRules returns a copy of the built-in rules.
func BuiltinRules() ([]Rule, error) {
	rules, err := builtinRules()
	return append([]Rule(nil), rules...), err
}

// New returns a Classifier with the built-in rules and opts' admin rules.
func New(opts Options) (*Classifier, error) {
	builtin, err := builtinRules()
	if err != nil {
		return nil, fmt.Errorf("typing: %w", err)
	}
	c := &Classifier{builtin: builtin, log: opts.Logger}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	for i, r := range opts.AdminRules {
		r.admin = true
		r.When = cloneConds(r.When) // compiling must not write to the caller's rules
		if err := r.validate(); err != nil {
			return nil, fmt.Errorf("typing: admin rule %d %q: %w", i, r.ID, err)
		}
		c.admin = append(c.admin, r)
	}
	if opts.RulesFile != "" {
		rules, err := LoadRules(opts.RulesFile)
		if err != nil {
			return nil, fmt.Errorf("typing: %w", err)
		}
		c.admin = append(c.admin, rules...)
	}
	return c, nil
}

func cloneConds(cs []Cond) []Cond {
	if cs == nil {
		return nil
	}
	out := make([]Cond, len(cs))
	for i, c := range cs {
		c.Any = cloneConds(c.Any)
		c.All = cloneConds(c.All)
		if c.Not != nil {
			n := cloneConds([]Cond{*c.Not})[0]
			c.Not = &n
		}
		out[i] = c
	}
	return out
}

// fired is a rule that held, with what it matched.
type fired struct {
	rule  *Rule
	match string
}

// Classify types one device. It only reads in.
//
// Confidence: the fired rules of each category combine as a noisy-or,
// 1 − Π(1 − weight), so independent hints add up without ever reaching 1,
// and one strong rule outweighs several weak ones; rules of one group
// (correlated views of the same fact) count once, by their strongest. The category with the
// highest combination wins (ties: the stronger single rule, then the order
// of Categories). When an admin rule fires, its category wins whatever the
// built-in rules say, and its confidence is its own noisy-or.
func (c *Classifier) Classify(in Input) Result {
	if in.Evidence == nil || len(in.Evidence.Vars) == 0 {
		return c.unknown(in)
	}
	f := newFacts(in)
	var admin, builtin []fired
	for i := range c.admin {
		if ok, m := f.evalAll(c.admin[i].When); ok {
			admin = append(admin, fired{&c.admin[i], m})
		}
	}
	var fallback []fired
	for i := range c.builtin {
		if ok, m := f.evalAll(c.builtin[i].When); ok {
			if c.builtin[i].Fallback {
				fallback = append(fallback, fired{&c.builtin[i], m})
			} else {
				builtin = append(builtin, fired{&c.builtin[i], m})
			}
		}
	}
	if !votes(builtin) {
		builtin = append(builtin, fallback...)
	}

	var res Result
	var winners []fired
	if len(admin) > 0 {
		res.Category = admin[0].rule.Category
		res.Type = admin[0].rule.Name
		winners = byCategory(admin, res.Category)
		// Built-in rules that agree still explain the device.
		winners = append(winners, byCategory(builtin, res.Category)...)
		res.Confidence = noisyOr(byCategory(admin, res.Category))
	} else {
		res.Category, res.Confidence = best(builtin)
		winners = byCategory(builtin, res.Category)
	}
	res.Vendor = c.vendor(f, winners, builtin, in)
	for _, w := range winners {
		res.Reasons = append(res.Reasons, reasonOf(f, w, res.Vendor))
	}
	if res.Category == "" {
		res.Category = Other
		res.Confidence = 0.3
		res.Reasons = append(res.Reasons, otherReason(f))
	}
	res.Reasons = append(res.Reasons, runnersUp(f, builtin, res.Category, res.Vendor)...)
	res.Model = firstNonEmpty(extractAll(f, winners, true), f.genericModel(), extractAll(f, builtin, true))
	res.Serial = firstNonEmpty(extractAll(f, winners, false), f.genericSerial(), extractAll(f, builtin, false))
	c.log.Debug("classified", "category", res.Category, "confidence", res.Confidence,
		"vendor", res.Vendor, "model", res.Model, "rules", len(winners))
	return res
}

func (c *Classifier) unknown(in Input) Result {
	res := Result{Category: Unknown, Vendor: in.MACVendor, Reasons: []string{"no SNMP answer, so nothing says what it is"}}
	if in.MACVendor != "" {
		res.Reasons = append(res.Reasons, fmt.Sprintf("MAC vendor is %s (IEEE registry)", in.MACVendor))
	}
	return res
}

func (f *facts) evalAll(conds []Cond) (bool, string) {
	m := ""
	for i := range conds {
		ok, mi := f.eval(&conds[i])
		if !ok {
			return false, ""
		}
		if mi != "" {
			m = mi
		}
	}
	return true, m
}

// votes reports whether any fired rule names a category (some only name a
// model or vendor).
func votes(fs []fired) bool {
	for _, x := range fs {
		if x.rule.Category != "" {
			return true
		}
	}
	return false
}

// byCategory returns the fired rules voting for cat, strongest first.
func byCategory(fs []fired, cat Category) []fired {
	var out []fired
	for _, x := range fs {
		if x.rule.Category == cat {
			out = append(out, x)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].rule.Weight > out[j].rule.Weight })
	return out
}

// noisyOr combines fired rules as independent evidence. Rules sharing a
// group are one piece of evidence seen several ways (a bridge shows in
// BRIDGE-MIB, Q-BRIDGE-MIB and its port count alike), so a group counts
// once, with its strongest rule.
func noisyOr(fs []fired) float64 {
	miss := 1.0
	strongest := map[string]float64{}
	for _, x := range fs {
		if g := x.rule.Group; g != "" {
			strongest[g] = max(strongest[g], x.rule.Weight)
			continue
		}
		miss *= 1 - x.rule.Weight
	}
	for _, w := range strongest {
		miss *= 1 - w
	}
	return round3(1 - miss)
}

func round3(x float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', 3, 64), 64)
	return v
}

// scores combines the fired rules per category.
func scores(fs []fired) map[Category][2]float64 {
	out := map[Category][2]float64{}
	for _, cat := range Categories {
		var top float64
		var mine []fired
		for _, x := range fs {
			if x.rule.Category == cat {
				mine = append(mine, x)
				top = max(top, x.rule.Weight)
			}
		}
		if len(mine) > 0 {
			out[cat] = [2]float64{noisyOr(mine), top}
		}
	}
	return out
}

func best(fs []fired) (Category, float64) {
	var win Category
	var ws [2]float64
	sc := scores(fs)
	for _, cat := range Categories {
		s, ok := sc[cat]
		if !ok {
			continue
		}
		if s[0] > ws[0] || s[0] == ws[0] && s[1] > ws[1] {
			win, ws = cat, s
		}
	}
	return win, ws[0]
}

// runnersUp explains the strongest categories that lost, so a wrong answer
// shows what else was considered.
func runnersUp(f *facts, fs []fired, win Category, vendor string) []string {
	type alt struct {
		cat Category
		s   float64
	}
	var alts []alt
	for cat, s := range scores(fs) {
		if cat != win {
			alts = append(alts, alt{cat, s[0]})
		}
	}
	sort.Slice(alts, func(i, j int) bool {
		if alts[i].s != alts[j].s {
			return alts[i].s > alts[j].s
		}
		return alts[i].cat < alts[j].cat
	})
	var out []string
	for _, a := range alts[:min(2, len(alts))] {
		top := byCategory(fs, a.cat)[0]
		out = append(out, fmt.Sprintf("less likely %s (%.2f): %s", a.cat, a.s, reasonOf(f, top, vendor)))
	}
	return out
}

func otherReason(f *facts) string {
	switch {
	case f.objectID != "":
		return fmt.Sprintf("answers SNMP (sysObjectID %s%s) but no rule fits it", f.objectID, entSuffix(f))
	case f.descr != "":
		return fmt.Sprintf("answers SNMP (sysDescr %q) but no rule fits it", clipText(f.descr))
	}
	return "answers SNMP but says too little to tell what it is"
}

func entSuffix(f *facts) string {
	if !f.hasEnt {
		return ""
	}
	if name, ok := EnterpriseName(f.enterprise); ok {
		return ", " + name
	}
	return ""
}

// genericAgents are enterprises of SNMP agent software rather than of the
// device's maker: their number says nothing about who built the box.
var genericAgents = map[uint32]bool{8072: true, 2021: true, 4: true}

func (c *Classifier) vendor(f *facts, winners, all []fired, in Input) string {
	for _, w := range winners {
		if w.rule.Vendor != "" {
			return w.rule.Vendor
		}
		if v := f.extract(w.rule.VendorFrom); v != "" {
			return v
		}
	}
	for _, w := range all {
		if w.rule.Category == "" && w.rule.Vendor != "" {
			return w.rule.Vendor
		}
	}
	if f.hasEnt && !genericAgents[f.enterprise] {
		if name, ok := EnterpriseName(f.enterprise); ok {
			return name
		}
	}
	if in.MACVendor != "" {
		return in.MACVendor
	}
	if mfg := cleanValue(f.chassis(snmp.OIDEntPhysicalMfgName)); mfg != "" {
		return mfg
	}
	return ""
}

func extractAll(f *facts, fs []fired, model bool) string {
	for _, x := range fs {
		xs := x.rule.Serial
		if model {
			xs = x.rule.Model
		}
		if s := f.extract(xs); s != "" {
			return s
		}
	}
	return ""
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// chassisIndex is the ENTITY-MIB row of the whole device: the first
// entPhysicalClass chassis(3), else stack(11), else index 1.
func (f *facts) chassisIndex() string {
	for _, want := range []int64{3, 11} {
		for _, v := range f.under(snmp.OIDEntPhysicalClass) {
			if n, ok := v.Number(); ok && n == want {
				return v.Name[len(snmp.OIDEntPhysicalClass)+1:]
			}
		}
	}
	return "1"
}

func (f *facts) chassis(column string) string {
	return textOf(f.ev, column+"."+f.chassisIndex())
}

func (f *facts) genericModel() string {
	for _, s := range []string{
		f.chassis(snmp.OIDEntPhysicalModelName),
		textOf(f.ev, snmp.OIDUpsIdentModel),
	} {
		if s = cleanValue(s); s != "" {
			return s
		}
	}
	return ""
}

func (f *facts) genericSerial() string {
	if s := cleanValue(f.chassis(snmp.OIDEntPhysicalSerialNum)); s != "" {
		return s
	}
	for _, v := range f.under(snmp.OIDPrtGeneralSerialNumber) {
		if s := cleanValue(varText(v)); s != "" {
			return s
		}
	}
	return ""
}

// reasonOf renders a fired rule's reason.
func reasonOf(f *facts, x fired, vendor string) string {
	r := x.rule
	text := r.Reason
	var sb strings.Builder
	switch {
	case r.admin && text == "":
		sb.WriteString("admin rule " + strconv.Quote(r.ID) + " matched")
		if x.match != "" {
			text = " ({match})"
		}
	case r.admin:
		sb.WriteString("admin rule " + strconv.Quote(r.ID) + " matched: ")
	case text == "":
		text = "rule " + r.ID + " matched"
		if x.match != "" {
			text += " ({match})"
		}
	}
	for {
		i := strings.IndexByte(text, '{')
		j := strings.IndexByte(text, '}')
		if i < 0 || j < i {
			sb.WriteString(text)
			break
		}
		sb.WriteString(text[:i])
		name := text[i+1 : j]
		switch {
		case name == "enterprise":
			sb.WriteString(strconv.FormatUint(uint64(f.enterprise), 10) + entParen(f))
		case name == "vendor":
			sb.WriteString(vendor)
		case name == "match":
			sb.WriteString(clipText(x.match))
		case strings.HasPrefix(name, "oid:"):
			sb.WriteString(clipText(textOf(f.ev, name[4:])))
		}
		text = text[j+1:]
	}
	return sb.String()
}

func entParen(f *facts) string {
	if name, ok := EnterpriseName(f.enterprise); ok {
		return " (" + name + ")"
	}
	return ""
}

func clipText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return s
}
