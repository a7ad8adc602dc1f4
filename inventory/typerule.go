package inventory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/lanscout/lanscout/discover"
	"github.com/lanscout/lanscout/typing"
)

// TypeRuleStore keeps the admin device types defined in the UI, and the
// settings admins change at runtime.
//
// A type rule is stored as its YAML source, exactly as one entry of a
// --rules file reads (see typing's "Admin rules"), so a rule moves between
// the UI and a file by copy and paste. Rules are validated before they are
// stored: a stored rule always compiles.
type TypeRuleStore interface {
	// TypeRules lists the rules in the order they are tried.
	TypeRules(ctx context.Context) ([]TypeRule, error)
	TypeRule(ctx context.Context, id int64) (TypeRule, error)
	// CreateTypeRule validates r.Source and stores it after the last rule
	// (or at r.Position when it is set). Name and Category come from the
	// source. A second rule of one name is refused with ErrConflict.
	CreateTypeRule(ctx context.Context, r TypeRule) (TypeRule, error)
	// UpdateTypeRule replaces the source, position and enabled flag of
	// rule r.ID.
	UpdateTypeRule(ctx context.Context, r TypeRule) (TypeRule, error)
	DeleteTypeRule(ctx context.Context, id int64) error
	// TypeRulesVersion changes (grows) with every write to the rules, so a
	// scanner can keep its classifier until the rules change.
	TypeRulesVersion(ctx context.Context) (int64, error)
	// ReclassifyDevices classifies again every device whose SNMP evidence is
	// stored, with classify, and stores the results that differ (recording
	// category_changed events as a scan would). Devices without evidence
	// keep their classification. Batches are committed one at a time, so a
	// cancelled run keeps what it did.
	ReclassifyDevices(ctx context.Context, classify func(typing.Input) typing.Result) (ReclassifyStats, error)

	// Settings returns the runtime settings, defaults filled in for those
	// never saved.
	Settings(ctx context.Context) (Settings, error)
	// PutSettings validates and stores every setting of st; by names who
	// changed them.
	PutSettings(ctx context.Context, st Settings, by string) (Settings, error)
}

// TypeRule is one admin-defined device type kept in the store.
type TypeRule struct {
	ID       int64           `json:"id"`
	Name     string          `json:"name"`     // from the source
	Category typing.Category `json:"category"` // from the source
	// Position orders the rules (lowest first); the first rule that fires
	// decides the category.
	Position  int       `json:"position"`
	Enabled   bool      `json:"enabled"`
	Source    string    `json:"source"` // YAML of one rule
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
	UpdatedBy string    `json:"updated_by,omitempty"`
}

// ReclassifyStats says what ReclassifyDevices did.
type ReclassifyStats struct {
	Checked         int `json:"checked"`          // devices with stored evidence
	Changed         int `json:"changed"`          // whose classification changed
	CategoryChanged int `json:"category_changed"` // whose effective category changed
}

// maxRuleSource bounds a rule's YAML: a rule is a few conditions.
const maxRuleSource = 16 << 10

// ParseTypeRule reads the YAML source of one admin rule, in the form of an
// entry of a rules file:
//
//	name: Label printer
//	category: printer
//	when:
//	  - sysobjectid: [1.3.6.1.4.1.10642]
//
// and checks it as the classifier will (unknown keys, bad OIDs, regexes and
// categories are errors naming the line). Errors wrap ErrInvalid.
func ParseTypeRule(source string) (typing.Rule, error) {
	if strings.TrimSpace(source) == "" {
		return typing.Rule{}, fmt.Errorf("%w: the rule is empty", ErrInvalid)
	}
	if len(source) > maxRuleSource {
		return typing.Rule{}, fmt.Errorf("%w: the rule is longer than %d bytes", ErrInvalid, maxRuleSource)
	}
	dec := yaml.NewDecoder(strings.NewReader(source))
	dec.KnownFields(true)
	var r typing.Rule
	if err := dec.Decode(&r); err != nil {
		if errors.Is(err, io.EOF) {
			return typing.Rule{}, fmt.Errorf("%w: the rule is empty", ErrInvalid)
		}
		return typing.Rule{}, fmt.Errorf("%w: %s", ErrInvalid, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return typing.Rule{}, fmt.Errorf("%w: one rule only (a second YAML document follows)", ErrInvalid)
	}
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" {
		return typing.Rule{}, fmt.Errorf("%w: line 1: the rule needs a name (the type people will see)", ErrInvalid)
	}
	if len(r.Name) > 128 {
		return typing.Rule{}, fmt.Errorf("%w: name longer than 128 characters", ErrInvalid)
	}
	// The classifier validates and compiles admin rules itself; asking it
	// keeps one definition of a valid rule.
	if _, err := typing.New(typing.Options{AdminRules: []typing.Rule{r}}); err != nil {
		return typing.Rule{}, fmt.Errorf("%w: %s", ErrInvalid, ruleErrorWithLine(source, err))
	}
	return r, nil
}

var condIndex = regexp.MustCompile(`when\[(\d+)\]`)

// ruleErrorWithLine rewrites typing's "typing: admin rule 0 "X": when[2]:
// ..." for a one-rule source: the prefix says nothing to the person who
// typed it, the line of the condition does.
func ruleErrorWithLine(source string, err error) string {
	msg := err.Error()
	if i := strings.Index(msg, `": `); i >= 0 && strings.HasPrefix(msg, "typing: admin rule ") {
		msg = msg[i+3:]
	}
	m := condIndex.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	i, _ := strconv.Atoi(m[1])
	var node yaml.Node
	if yaml.Unmarshal([]byte(source), &node) != nil || len(node.Content) == 0 {
		return msg
	}
	root := node.Content[0]
	for k := 0; k+1 < len(root.Content); k += 2 {
		if root.Content[k].Value == "when" && root.Content[k+1].Kind == yaml.SequenceNode && i < len(root.Content[k+1].Content) {
			return fmt.Sprintf("line %d: %s", root.Content[k+1].Content[i].Line, msg)
		}
	}
	return msg
}

// AdminRules parses the enabled rules of rs, in order, for
// typing.Options.AdminRules. Stored rules were validated when saved; one
// that no longer parses (a newer lanscout wrote it) is an error naming it.
func AdminRules(rs []TypeRule) ([]typing.Rule, error) {
	var out []typing.Rule
	for _, tr := range rs {
		if !tr.Enabled {
			continue
		}
		r, err := ParseTypeRule(tr.Source)
		if err != nil {
			return nil, fmt.Errorf("type rule %q: %w", tr.Name, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// Settings are what admins change at runtime. The zero value of a field
// means "not set" only where documented; Settings returns defaults filled
// in.
type Settings struct {
	// Defaults for new subnets: a subnet created without these fields
	// takes them.
	DefaultMethod      string   `json:"default_method"`      // a discover.Method; default auto
	DefaultGoneAfter   int      `json:"default_gone_after"`  // missed complete scans; default 3
	DefaultSchedule    Schedule `json:"default_schedule"`    // zero: on demand
	DefaultCredentials []string `json:"default_credentials"` // SNMP credential names
	// TokenExpiry is the expiry the UI proposes for new API tokens; 0
	// proposes none.
	TokenExpiry time.Duration `json:"token_expiry"`
	Updated     time.Time     `json:"updated,omitzero"`
	UpdatedBy   string        `json:"updated_by,omitempty"`
}

// DefaultSettings are the settings of a fresh appliance.
func DefaultSettings() Settings {
	return Settings{DefaultMethod: string(discover.MethodAuto), DefaultGoneAfter: DefaultGoneAfter,
		DefaultCredentials: []string{}, TokenExpiry: 90 * 24 * time.Hour}
}

// maxTokenExpiry bounds the proposed token lifetime to what a person
// might type on purpose.
const maxTokenExpiry = 10 * 365 * 24 * time.Hour

// Validate checks st and normalises it.
func (st *Settings) Validate() error {
	st.DefaultMethod = strings.TrimSpace(st.DefaultMethod)
	switch discover.Method(st.DefaultMethod) {
	case "":
		st.DefaultMethod = string(discover.MethodAuto)
	case discover.MethodAuto, discover.MethodARP, discover.MethodICMP, discover.MethodTCP, discover.MethodSNMP:
	default:
		return fmt.Errorf("%w: default method %q is not one of auto, arp, icmp, tcp, snmp", ErrInvalid, st.DefaultMethod)
	}
	if st.DefaultGoneAfter < 1 || st.DefaultGoneAfter > maxGoneAfter {
		return fmt.Errorf("%w: default gone-after %d is not between 1 and %d", ErrInvalid, st.DefaultGoneAfter, maxGoneAfter)
	}
	if err := st.DefaultSchedule.validate(); err != nil {
		return fmt.Errorf("default %w", err)
	}
	st.DefaultCredentials = cleanList(st.DefaultCredentials)
	if st.TokenExpiry < 0 || st.TokenExpiry > maxTokenExpiry {
		return fmt.Errorf("%w: token expiry %s is not between 0 (none) and 10 years", ErrInvalid, st.TokenExpiry)
	}
	return nil
}
