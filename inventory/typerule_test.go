package inventory

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/snmp"
	"github.com/lanscout/lanscout/typing"
)

const labPDURule = `name: Lab PDU
category: power
when:
  - oid: 1.3.6.1.2.1.1.1.0
    contains: "lab-pdu"
`

func TestParseTypeRule(t *testing.T) {
	cases := []struct {
		name, src, wantErr string
	}{
		{"readme example", labPDURule, ""},
		{"sysobjectid and regex", "name: Label printer\ncategory: printer\nwhen:\n  - sysobjectid: [1.3.6.1.4.1.10642]\n  - sysdescr: '(?i)\\bZT\\d{3}'\n", ""},
		{"empty", "  \n", "the rule is empty"},
		{"no name", "category: power\nwhen:\n  - oid: 1.3.6.1.2.1.1.1.0\n", "needs a name"},
		{"unknown key", "name: X\ncategory: power\ncolour: red\nwhen:\n  - oid: 1.3.6.1.2.1.1.1.0\n", "field colour not found"},
		{"unknown category", "name: X\ncategory: toaster\nwhen:\n  - oid: 1.3.6.1.2.1.1.1.0\n", `unknown category "toaster"`},
		{"no condition", "name: X\ncategory: power\n", "at least one condition"},
		{"bad regex names its line", "name: X\ncategory: power\nwhen:\n  - oid: 1.3.6.1.2.1.1.1.0\n  - sysdescr: '(unclosed'\n", "line 5: when[1]"},
		{"two documents", labPDURule + "---\n" + labPDURule, "one rule only"},
		{"not yaml", "name: [unclosed\n", "line 1"},
		{"too long", "name: X\n#" + strings.Repeat("x", maxRuleSource), "longer than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := ParseTypeRule(c.src)
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseTypeRule: %v", err)
				}
				if r.Name == "" || r.Category == "" {
					t.Errorf("rule %+v", r)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want ErrInvalid containing %q", err, c.wantErr)
			}
		})
	}
}

func TestTypeRuleStore(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := openTest(t)
	v0, err := s.TypeRulesVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.CreateTypeRule(ctx, TypeRule{Source: labPDURule, Enabled: true, UpdatedBy: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "Lab PDU" || a.Category != typing.Power || a.Position != 10 || !a.Enabled || a.UpdatedBy != "alice" || a.Source != labPDURule {
		t.Errorf("created %+v", a)
	}
	clk.Advance(time.Minute)
	b, err := s.CreateTypeRule(ctx, TypeRule{Source: "name: Core\ncategory: router\nwhen:\n  - sysobjectid: [1.3.6.1.4.1.9]\n", Position: 5})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateTypeRule(ctx, TypeRule{Source: labPDURule}); !errors.Is(err, ErrConflict) {
		t.Errorf("second rule of one name: %v, want ErrConflict", err)
	}
	if _, err := s.CreateTypeRule(ctx, TypeRule{Source: "name: X\ncategory: toaster\nwhen: [{oid: 1.3.6.1.2.1.1.1.0}]"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("invalid rule: %v, want ErrInvalid", err)
	}
	rules, err := s.TypeRules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 2 || rules[0].ID != b.ID || rules[1].ID != a.ID {
		t.Fatalf("rules in position order: %+v", rules)
	}
	v1, _ := s.TypeRulesVersion(ctx)
	if v1 != v0+2 {
		t.Errorf("version %d after two creates from %d", v1, v0)
	}

	// Update: renames from the source, keeps the position when 0.
	clk.Advance(time.Minute)
	b.Source = strings.Replace(b.Source, "Core", "Core router", 1)
	b.Position, b.Enabled = 0, false
	up, err := s.UpdateTypeRule(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if up.Name != "Core router" || up.Position != 5 || up.Enabled || !up.Updated.After(up.Created) {
		t.Errorf("updated %+v", up)
	}
	if _, err := s.UpdateTypeRule(ctx, TypeRule{ID: 999, Source: labPDURule}); !errors.Is(err, ErrNotFound) {
		t.Errorf("update of a missing rule: %v", err)
	}
	b.Source = labPDURule
	if _, err := s.UpdateTypeRule(ctx, b); !errors.Is(err, ErrConflict) {
		t.Errorf("rename onto another rule's name: %v, want ErrConflict", err)
	}

	// AdminRules: enabled rules only, in order.
	rules, _ = s.TypeRules(ctx)
	admin, err := AdminRules(rules)
	if err != nil {
		t.Fatal(err)
	}
	if len(admin) != 1 || admin[0].Name != "Lab PDU" {
		t.Errorf("admin rules %+v, want only the enabled Lab PDU", admin)
	}

	if err := s.DeleteTypeRule(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTypeRule(ctx, a.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	if _, err := s.TypeRule(ctx, a.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("get deleted: %v", err)
	}
	v2, _ := s.TypeRulesVersion(ctx)
	if v2 != v1+2 {
		t.Errorf("version %d after update and delete from %d", v2, v1)
	}
}

func TestReclassifyDevices(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := openTest(t)
	sn := mustSubnet(t, s, "10.4.0.0/24")
	pdu := withSNMP(dev("10.4.0.1", "00:00:0c:01:02:03", "", "other"), "probe-1", "")
	pdu.Evidence = snmp.NewEvidence()
	pdu.Evidence.Add(snmp.Var{Name: "1.3.6.1.2.1.1.1.0", Kind: snmp.OctetString, Bytes: []byte("Acme cold-room probe 2.1")})
	pdu.Evidence.Add(snmp.Var{Name: "1.3.6.1.2.1.1.2.0", Kind: snmp.ObjectID, OID: "1.3.6.1.4.1.8072.3.2.10"})
	noSNMP := dev("10.4.0.2", "00:00:0c:01:02:04", "", "")
	scanOnce(t, s, clk, sn.ID, pdu, noSNMP)

	// The classification the scan stored first, with today's classifier.
	plain, err := typing.New(typing.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.ReclassifyDevices(ctx, plain.Classify)
	if err != nil {
		t.Fatal(err)
	}
	if st.Checked != 1 {
		t.Errorf("checked %d devices, want the one with evidence", st.Checked)
	}
	before := deviceByIP(t, s, "10.4.0.1")
	if before.Category == typing.Environment {
		t.Fatalf("without the rule the probe is already environment: %+v", before)
	}

	r, err := ParseTypeRule("name: Cold room\ncategory: environment\nwhen:\n  - sysdescr: '(?i)cold-room'\n")
	if err != nil {
		t.Fatal(err)
	}
	withRule, err := typing.New(typing.Options{AdminRules: []typing.Rule{r}})
	if err != nil {
		t.Fatal(err)
	}
	st, err = s.ReclassifyDevices(ctx, withRule.Classify)
	if err != nil {
		t.Fatal(err)
	}
	if st.Checked != 1 || st.Changed != 1 || st.CategoryChanged != 1 {
		t.Errorf("stats %+v", st)
	}
	after := deviceByIP(t, s, "10.4.0.1")
	if after.Category != typing.Environment || after.Classification.Category != typing.Environment ||
		len(after.Classification.Reasons) == 0 || !strings.Contains(after.Classification.Reasons[0], `admin rule "Cold room"`) {
		t.Errorf("after the rule: %+v", after)
	}
	if after.Status != Identified || after.Identification == nil || after.Identification.By != "rule:Cold room" {
		t.Errorf("a device the stored type matched is not marked identified: status %q, %+v", after.Status, after.Identification)
	}
	det, err := s.Device(ctx, after.ID)
	if err != nil {
		t.Fatal(err)
	}
	var changed bool
	for _, e := range det.Events {
		changed = changed || (e.Kind == EventCategoryChanged && e.New == "environment" && e.Old == string(before.Category))
	}
	if !changed {
		t.Errorf("no category_changed event: %+v", det.Events)
	}
	if other := deviceByIP(t, s, "10.4.0.2"); other.Category != typing.Unknown {
		t.Errorf("device without evidence reclassified: %+v", other)
	}
	// Running again changes nothing.
	if st, err = s.ReclassifyDevices(ctx, withRule.Classify); err != nil || st.Changed != 0 {
		t.Errorf("second run: %+v %v", st, err)
	}
	// An admin's identification still wins over the new classification.
	if err := s.Identify(ctx, after.ID, Identification{Category: typing.Server, By: "alice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReclassifyDevices(ctx, plain.Classify); err != nil {
		t.Fatal(err)
	}
	if d := deviceByIP(t, s, "10.4.0.1"); d.Category != typing.Server || d.Classification.Category == typing.Environment {
		t.Errorf("identified device after reclassify: %+v", d)
	}
}

func TestSettings(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := openTest(t)
	st, err := s.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.DefaultMethod != "auto" || st.DefaultGoneAfter != DefaultGoneAfter || st.DefaultCredentials == nil || !st.Updated.IsZero() {
		t.Errorf("fresh settings %+v", st)
	}
	if _, err := s.PutCredential(ctx, snmp.Credential{Name: "campus", Version: snmp.V2c, Community: "s3cret-community"}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	want := Settings{DefaultMethod: "icmp", DefaultGoneAfter: 5, DefaultSchedule: Schedule{Every: 6 * time.Hour},
		DefaultCredentials: []string{"campus", " campus "}, TokenExpiry: 30 * 24 * time.Hour}
	got, err := s.PutSettings(ctx, want, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if got.DefaultMethod != "icmp" || got.DefaultGoneAfter != 5 || got.DefaultSchedule.Every != 6*time.Hour ||
		len(got.DefaultCredentials) != 1 || got.TokenExpiry != 30*24*time.Hour || got.UpdatedBy != "alice" || !got.Updated.Equal(clk.Now()) {
		t.Errorf("saved %+v", got)
	}
	// Read back from a fresh read.
	again, err := s.Settings(ctx)
	if err != nil || again.DefaultSchedule.Every != 6*time.Hour || again.DefaultCredentials[0] != "campus" {
		t.Errorf("read back %+v %v", again, err)
	}
	for _, bad := range []Settings{
		{DefaultMethod: "pigeon", DefaultGoneAfter: 3},
		{DefaultGoneAfter: 0},
		{DefaultGoneAfter: 3, DefaultSchedule: Schedule{Every: time.Second}},
		{DefaultGoneAfter: 3, DefaultSchedule: Schedule{At: "25:00"}},
		{DefaultGoneAfter: 3, DefaultCredentials: []string{"nope"}},
		{DefaultGoneAfter: 3, TokenExpiry: -time.Hour},
	} {
		if _, err := s.PutSettings(ctx, bad, "alice"); !errors.Is(err, ErrInvalid) {
			t.Errorf("PutSettings(%+v): %v, want ErrInvalid", bad, err)
		}
	}
	if again, _ := s.Settings(ctx); again.DefaultMethod != "icmp" {
		t.Errorf("a refused save changed the settings: %+v", again)
	}
}

func TestAuditQueryTargetAndUntil(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := openTest(t)
	start := clk.Now()
	for _, target := range []string{"user/1", "device/4", "device/42", "user/2"} {
		if err := s.Audit(ctx, AuditEntry{Actor: "alice", Action: "x.y", Target: target}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
	}
	got, total, err := s.AuditLog(ctx, AuditQuery{Target: "device/"})
	if err != nil || total != 2 || len(got) != 2 || got[0].Target != "device/42" {
		t.Errorf("target prefix: %+v %d %v", got, total, err)
	}
	got, total, _ = s.AuditLog(ctx, AuditQuery{Until: start.Add(90 * time.Second)})
	if total != 2 || got[0].Target != "device/4" {
		t.Errorf("until: %+v %d", got, total)
	}
	_, total, _ = s.AuditLog(ctx, AuditQuery{Target: "user/", Since: start.Add(time.Minute), Until: start.Add(time.Hour)})
	if total != 1 {
		t.Errorf("target, since and until: %d", total)
	}
}

// FuzzParseTypeRule feeds the parser what an admin (or anyone holding an
// admin token) may post: it must answer a rule or an ErrInvalid, never
// panic, and a rule it accepts must build a classifier.
func FuzzParseTypeRule(f *testing.F) {
	f.Add(labPDURule)
	f.Add("name: X\ncategory: printer\nwhen:\n  - any: [{sysdescr: '(?i)zt'}, {not: {oid: 1.3.6.1.2.1.43.5.1.1.17.1, present: true}}]\n")
	f.Add("name: X\ncategory: power\nwhen: [{count: 1.3.6.1.2.1.2.2.1.3, equals: '6', min: 2}]\nmodel: [{sysdescr: 'v(\\d+)'}]\n")
	f.Add("name: X\ncategory: power\nwhen: [{iftype: 6, min: 1}]\n---\nname: Y\n")
	f.Fuzz(func(t *testing.T, src string) {
		r, err := ParseTypeRule(src)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if r.Name == "" {
			t.Fatal("accepted a rule without a name")
		}
		if _, err := typing.New(typing.Options{AdminRules: []typing.Rule{r}}); err != nil {
			t.Fatalf("accepted rule does not build: %v", err)
		}
	})
}
