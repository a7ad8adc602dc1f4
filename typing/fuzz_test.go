package typing_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lanscout/lanscout/snmp"
	"github.com/lanscout/lanscout/typing"
)

func validCategory(c typing.Category) bool {
	for _, k := range typing.Categories {
		if k == c {
			return true
		}
	}
	return false
}

// FuzzClassify feeds arbitrary sysDescr bytes and sysObjectIDs, as a
// hostile or broken agent could send them, through every built-in rule and
// the model extraction.
func FuzzClassify(f *testing.F) {
	f.Add("Cisco IOS Software, C2960X Software", "1.3.6.1.4.1.9.1.1208", "WS-C2960X")
	f.Add("HP ETHERNET MULTI-ENVIRONMENT,JETDIRECT", "1.3.6.1.4.1.11.2.3.9.1", "")
	f.Add("Linux h 5.10.0-lb1 #1", "1.3.6.1.4.1.8072.3.2.10", "\x00\xff")
	f.Add("\xff\xfe\x00", "1.3.6.1.4.1", "")
	f.Add("", "0", "")
	c, err := typing.New(typing.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sysDescr, objectID, model string) {
		ev := evidence(
			snmp.Var{Name: snmp.OIDSysDescr, Kind: snmp.OctetString, Bytes: []byte(sysDescr)},
			snmp.Var{Name: snmp.OIDSysObjectID, Kind: snmp.ObjectID, OID: objectID},
			snmp.Var{Name: snmp.OIDEntPhysicalModelName + ".1", Kind: snmp.OctetString, Bytes: []byte(model)},
			snmp.Var{Name: snmp.OIDUpsIdentModel, Kind: snmp.OctetString, Bytes: []byte(model)},
		)
		res := c.Classify(typing.Input{Evidence: ev})
		if !validCategory(res.Category) || res.Category == typing.Unknown {
			t.Fatalf("category %q", res.Category)
		}
		if res.Confidence < 0 || res.Confidence > 1 {
			t.Fatalf("confidence %v", res.Confidence)
		}
		if len(res.Reasons) == 0 {
			t.Fatal("no reasons")
		}
		if len(res.Model) > 512 || len(res.Serial) > 512 {
			t.Fatalf("unbounded model/serial: %d/%d bytes", len(res.Model), len(res.Serial))
		}
		for _, r := range res.Reasons {
			if len(r) > 4096 {
				t.Fatalf("unbounded reason: %d bytes", len(r))
			}
		}
	})
}

// FuzzLoadRules checks that no rules file, however broken, panics the
// loader, and that what it accepts can be used.
func FuzzLoadRules(f *testing.F) {
	for _, name := range []string{"admin-example.yaml", "invalid/unknown-key.yaml", "invalid/bad-regex.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("rules:\n  - name: x\n    category: printer\n    when:\n      - not: {any: [{oid: 1.3, gt: 5}]}\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, doc []byte) {
		path := filepath.Join(dir, "rules.yaml")
		if err := os.WriteFile(path, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		rules, err := typing.LoadRules(path)
		if err != nil {
			return
		}
		c, err := typing.New(typing.Options{AdminRules: rules})
		if err != nil {
			t.Fatalf("LoadRules accepted rules New refuses: %v", err)
		}
		res := c.Classify(typing.Input{Evidence: evidence(descr("probe"), sysOID("1.3.6.1.4.1.9.1.1"))})
		if res.Confidence < 0 || res.Confidence > 1 {
			t.Fatalf("confidence %v", res.Confidence)
		}
	})
}

// FuzzAdminRegex runs admin-supplied regexes against device-supplied text
// through every matcher that takes a string.
func FuzzAdminRegex(f *testing.F) {
	f.Add(`(?i)\bZT\d{3}`, "Zebra ZT410", "1.3.6.1.4.1.10642")
	f.Add(`(((a+)+)+)+$`, strings.Repeat("a", 64)+"!", "1.3")
	f.Add(`[`, "x", ".1.3.6")
	f.Fuzz(func(t *testing.T, pattern, text, oid string) {
		if !utf8.ValidString(pattern) {
			return
		}
		rules := []typing.Rule{
			{Name: "descr", Category: typing.Printer, When: []typing.Cond{{SysDescr: pattern}}},
			{Name: "oid", Category: typing.Printer, When: []typing.Cond{{OID: snmp.OIDSysDescr, Regex: pattern}}},
			{Name: "mac", Category: typing.Printer, When: []typing.Cond{{MACVendor: pattern}}},
			{Name: "prefix", Category: typing.Printer, When: []typing.Cond{{OID: snmp.OIDSysObjectID, Prefix: oid}}},
			{Name: "sysobjectid", Category: typing.Printer, When: []typing.Cond{{SysObjectID: []string{oid}}}},
		}
		c, err := typing.New(typing.Options{AdminRules: rules})
		if err != nil {
			return // a bad regex or OID is refused at load, never at run time
		}
		res := c.Classify(typing.Input{
			Evidence:  evidence(descr(text), sysOID(oid)),
			MACVendor: text,
		})
		if res.Confidence < 0 || res.Confidence > 1 {
			t.Fatalf("confidence %v", res.Confidence)
		}
	})
}

// FuzzOID exercises the OID handling used by sysobjectid and enterprise
// conditions with arbitrary sysObjectID values.
func FuzzOID(f *testing.F) {
	f.Add("1.3.6.1.4.1.318.1.3.27")
	f.Add("1.3.6.1.4.1.")
	f.Add("1.3.6.1.4.1.99999999999999999999")
	f.Add(".1.3.6.1.4.1.9")
	c, err := typing.New(typing.Options{AdminRules: []typing.Rule{
		{Name: "apc", Category: typing.Power, When: []typing.Cond{{Enterprise: []uint32{318}}}},
	}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, oid string) {
		res := c.Classify(typing.Input{Evidence: evidence(sysOID(oid))})
		want := strings.HasPrefix(oid, "1.3.6.1.4.1.318.") || oid == "1.3.6.1.4.1.318"
		if got := res.Type == "apc"; got != want {
			t.Fatalf("sysObjectID %q: enterprise 318 matched = %v, want %v", oid, got, want)
		}
	})
}
