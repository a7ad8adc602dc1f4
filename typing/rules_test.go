package typing_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lanscout/lanscout/snmp"
	"github.com/lanscout/lanscout/typing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestLoadRulesErrors checks that every broken rule file is refused with a
// clear message, compared with testdata/invalid/*.golden.
func TestLoadRulesErrors(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "invalid", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no invalid rule files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			_, err := typing.LoadRules(file)
			if err == nil {
				t.Fatal("LoadRules accepted a broken file")
			}
			got := strings.ReplaceAll(err.Error(), file, filepath.Base(file)) + "\n"
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestLoadRulesErrors -update)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("error message (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadRulesExample(t *testing.T) {
	rules, err := typing.LoadRules(filepath.Join("testdata", "admin-example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 2 || rules[0].Name != "Label printer" || rules[1].Weight != 0.9 {
		t.Fatalf("unexpected rules: %+v", rules)
	}
	c, err := typing.New(typing.Options{RulesFile: filepath.Join("testdata", "admin-example.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	res := c.Classify(typing.Input{Evidence: evidence(
		descr("Zebra ZT410 (203 dpi) - ZebraNet"), sysOID("1.3.6.1.4.1.10642.1.1"),
	)})
	if res.Category != typing.Printer || res.Type != "Label printer" || res.Confidence != 1 {
		t.Fatalf("got %+v", res)
	}
	if !strings.HasPrefix(res.Reasons[0], `admin rule "Label printer" matched`) {
		t.Errorf("first reason %q should name the admin rule", res.Reasons[0])
	}
}

func TestAdminRulesWin(t *testing.T) {
	c, err := typing.New(typing.Options{AdminRules: []typing.Rule{{
		Name:     "Print server in a switch",
		Category: typing.Switch,
		When:     []typing.Cond{{SysDescr: "JETDIRECT"}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	ev := evidence(descr("HP ETHERNET MULTI-ENVIRONMENT,JETDIRECT"), sysOID("1.3.6.1.4.1.11.2.3.9.1"),
		num("1.3.6.1.2.1.43.5.1.1.1.1", 1))
	res := c.Classify(typing.Input{Evidence: ev})
	if res.Category != typing.Switch || res.Type != "Print server in a switch" {
		t.Fatalf("admin rule lost: %+v", res)
	}
	// Without the admin rule the same device is a printer.
	plain, _ := typing.New(typing.Options{})
	if got := plain.Classify(typing.Input{Evidence: ev}).Category; got != typing.Printer {
		t.Fatalf("built-in category %s, want printer", got)
	}
}

func TestNewRejectsBadAdminRule(t *testing.T) {
	_, err := typing.New(typing.Options{AdminRules: []typing.Rule{{Name: "x", Category: "toaster", When: []typing.Cond{{SysDescr: "x"}}}}})
	if err == nil || !strings.Contains(err.Error(), "unknown category") {
		t.Fatalf("err = %v", err)
	}
	_, err = typing.New(typing.Options{RulesFile: filepath.Join("testdata", "missing.yaml")})
	if err == nil {
		t.Fatal("missing rules file accepted")
	}
}

// TestConditions drives each condition type through an admin rule: the
// rule's name shows up as Result.Type exactly when it fired.
func TestConditions(t *testing.T) {
	base := []any{
		descr("Acme Switch 3000, Version 2.1"),
		sysOID("1.3.6.1.4.1.9.1.1208"),
		services(6), // layers 2 and 3
		num(snmp.OIDIPForwarding, 1),
		gauge(snmp.OIDDot1dBaseNumPorts, 24),
		ifTypes(1, 24, 6), ifTypes(25, 2, 71),
		str(snmp.OIDEntPhysicalModelName+".1", "ACME-3000"),
		bits(snmp.OIDLldpLocSysCapEnabled, 0x28, 0x00), // bridge + router
	}
	cases := []struct {
		name string
		when string
		fire bool
	}{
		{"enterprise", "- enterprise: [9]", true},
		{"enterprise other", "- enterprise: [11, 318]", false},
		{"sysobjectid prefix", "- sysobjectid: [1.3.6.1.4.1.9.1]", true},
		{"sysobjectid is arc-wise", "- sysobjectid: [1.3.6.1.4.1.9.12]", false},
		{"sysobjectid exact", "- sysobjectid: [.1.3.6.1.4.1.9.1.1208]", true},
		{"sysdescr", "- sysdescr: '(?i)switch \\d+'", true},
		{"sysdescr miss", "- sysdescr: 'Router'", false},
		{"oid present", "- oid: 1.3.6.1.2.1.4.1.0", true},
		{"oid absent", "- oid: 1.3.6.1.2.1.4.1.1", false},
		{"oid present false", "- {oid: 1.3.6.1.2.1.4.1.1, present: false}", true},
		{"oid equals", "- {oid: 1.3.6.1.2.1.4.1.0, equals: '1'}", true},
		{"oid equals miss", "- {oid: 1.3.6.1.2.1.4.1.0, equals: '2'}", false},
		{"oid equals OID value", "- {oid: 1.3.6.1.2.1.1.2.0, equals: 1.3.6.1.4.1.9.1.1208}", true},
		{"oid contains", "- {oid: 1.3.6.1.2.1.1.1.0, contains: 'SWITCH 3000'}", true},
		{"oid prefix text", "- {oid: 1.3.6.1.2.1.1.1.0, prefix: 'Acme '}", true},
		{"oid prefix OID", "- {oid: 1.3.6.1.2.1.1.2.0, prefix: 1.3.6.1.4.1.9}", true},
		{"oid prefix OID arc-wise", "- {oid: 1.3.6.1.2.1.1.2.0, prefix: 1.3.6.1.4.1.91}", false},
		{"oid regex", "- {oid: 1.3.6.1.2.1.1.1.0, regex: 'Version 2\\.\\d'}", true},
		{"oid gt", "- {oid: 1.3.6.1.2.1.17.1.2.0, gt: 23}", true},
		{"oid gt miss", "- {oid: 1.3.6.1.2.1.17.1.2.0, gt: 24}", false},
		{"oid ge", "- {oid: 1.3.6.1.2.1.17.1.2.0, ge: 24}", true},
		{"oid lt", "- {oid: 1.3.6.1.2.1.17.1.2.0, lt: 25}", true},
		{"oid le miss", "- {oid: 1.3.6.1.2.1.17.1.2.0, le: 23}", false},
		{"oid numeric on text", "- {oid: 1.3.6.1.2.1.1.1.0, gt: 1}", false},
		{"under present", "- under: 1.3.6.1.2.1.47.1.1.1.1.13", true},
		{"under absent", "- under: 1.3.6.1.2.1.43", false},
		{"under regex", "- {under: 1.3.6.1.2.1.47.1.1.1.1.13, regex: '^ACME-'}", true},
		{"count", "- {count: 1.3.6.1.2.1.2.2.1.3, equals: '6', min: 24, max: 24}", true},
		{"count too few", "- {count: 1.3.6.1.2.1.2.2.1.3, equals: '6', min: 25}", false},
		{"iftype", "- {iftype: 71, min: 2}", true},
		{"iftype max", "- {iftype: 6, max: 8}", false},
		{"iftype none", "- iftype: 127", false},
		{"services", "- services: [2, 3]", true},
		{"services miss", "- services: [7]", false},
		{"lldp", "- lldp: [bridge, router]", true},
		{"lldp miss", "- lldp: [telephone]", false},
		{"mac vendor", "- mac_vendor: '(?i)^acme'", true},
		{"any", "- any: [{enterprise: [11]}, {sysdescr: Acme}]", true},
		{"any none", "- any: [{enterprise: [11]}, {sysdescr: Nope}]", false},
		{"all", "- all: [{enterprise: [9]}, {sysdescr: Acme}]", true},
		{"all one fails", "- all: [{enterprise: [9]}, {sysdescr: Nope}]", false},
		{"not", "- not: {enterprise: [11]}", true},
		{"not fails", "- not: {enterprise: [9]}", false},
		{"conditions are and-ed", "- enterprise: [9]\n      - sysdescr: Nope", false},
	}
	dir := t.TempDir()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "rules.yaml")
			doc := "rules:\n  - name: probe\n    category: camera\n    when:\n      " + tc.when + "\n"
			if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := typing.New(typing.Options{RulesFile: path})
			if err != nil {
				t.Fatalf("rules:\n%s\n%v", doc, err)
			}
			res := c.Classify(typing.Input{Evidence: evidence(base...), MACVendor: "Acme Networks"})
			if fired := res.Type == "probe"; fired != tc.fire {
				t.Errorf("fired = %v, want %v (result %+v)", fired, tc.fire, res)
			}
		})
	}
}

func TestConfidenceCombines(t *testing.T) {
	// Noisy-or: two independent rules of 0.5 give 0.75, never more than 1.
	rules := []typing.Rule{
		{ID: "a", Name: "t", Category: typing.Camera, Weight: 0.5, When: []typing.Cond{{Enterprise: []uint32{9}}}},
		{ID: "b", Name: "t", Category: typing.Camera, Weight: 0.5, When: []typing.Cond{{SysDescr: "Acme"}}},
	}
	c, err := typing.New(typing.Options{AdminRules: rules})
	if err != nil {
		t.Fatal(err)
	}
	res := c.Classify(typing.Input{Evidence: evidence(descr("Acme"), sysOID("1.3.6.1.4.1.9.1.1"))})
	if res.Confidence != 0.75 {
		t.Fatalf("confidence %v, want 0.75", res.Confidence)
	}
}

func TestConfidenceGroupCountsOnce(t *testing.T) {
	rules := []typing.Rule{
		{ID: "a", Name: "t", Category: typing.Camera, Weight: 0.5, Group: "g", When: []typing.Cond{{Enterprise: []uint32{9}}}},
		{ID: "b", Name: "t", Category: typing.Camera, Weight: 0.6, Group: "g", When: []typing.Cond{{SysDescr: "Acme"}}},
		{ID: "c", Name: "t", Category: typing.Camera, Weight: 0.5, When: []typing.Cond{{SysDescr: "Acme"}}},
	}
	c, err := typing.New(typing.Options{AdminRules: rules})
	if err != nil {
		t.Fatal(err)
	}
	res := c.Classify(typing.Input{Evidence: evidence(descr("Acme"), sysOID("1.3.6.1.4.1.9.1.1"))})
	// Group g counts as its strongest rule, 0.6; with c: 1 - 0.4*0.5.
	if res.Confidence != 0.8 {
		t.Fatalf("confidence %v, want 0.8", res.Confidence)
	}
}

func TestBuiltinRules(t *testing.T) {
	rules, err := typing.BuiltinRules()
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) < 100 {
		t.Errorf("only %d built-in rules", len(rules))
	}
	for _, r := range rules {
		if r.Category != "" && r.Reason == "" {
			t.Errorf("rule %s has no reason text", r.ID)
		}
	}
}

func TestEnterpriseName(t *testing.T) {
	for n, want := range map[uint32]string{
		9:     "ciscoSystems",
		318:   "American Power Conversion Corp.",
		8072:  "net-snmp",
		12148: "ELTEK Energy AS",
		476:   "Vertiv", // "# formerly ..." notes are dropped
		7483:  "Nokia",  // so are "(Formerly ...)" remarks
	} {
		if got, ok := typing.EnterpriseName(n); !ok || got != want {
			t.Errorf("EnterpriseName(%d) = %q, %v; want %q", n, got, ok, want)
		}
	}
	if _, ok := typing.EnterpriseName(4294967295); ok {
		t.Error("unassigned number has a name")
	}
}
