package snmp

import (
	"bytes"
	"context"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestSnmprecGolden parses a recording with every tag and encoding, writes
// it back, and checks the output against the golden file and that it reads
// back to the same variables.
func TestSnmprecGolden(t *testing.T) {
	in, err := os.ReadFile("testdata/roundtrip.snmprec")
	if err != nil {
		t.Fatal(err)
	}
	rec, err := ParseSnmprec(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := WriteSnmprec(&out, rec.Vars()); err != nil {
		t.Fatal(err)
	}
	const golden = "testdata/roundtrip.golden"
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), out.String()); diff != "" {
		t.Errorf("WriteSnmprec output differs from %s (-want +got; go test -update to accept):\n%s", golden, diff)
	}
	back, err := ParseSnmprec(&out)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rec.Vars(), back.Vars()); diff != "" {
		t.Errorf("round trip changed variables:\n%s", diff)
	}
	// Spot checks of decoding.
	checks := map[string]string{
		"1.3.6.1.2.1.1.4.0":             "line one\nline two",
		"1.3.6.1.2.1.1.6.0":             "pipe|in value",
		"1.3.6.1.2.1.4.20.1.1.10.0.0.2": "10.0.0.2",
		"1.3.6.1.2.1.47.1.1.1.1.2.1":    "Café",
		"1.3.6.1.2.1.47.1.1.1.1.2.2":    "Café",
		"1.0.8802.1.1.2.1.3.2.0":        "00127962f940",
		"1.3.6.1.4.1.99.2.0":            "7", // leading zero arc normalized
	}
	ev := NewEvidence()
	for _, v := range rec.Vars() {
		ev.Add(v)
	}
	for oid, want := range checks {
		if got := ev.Text(oid); got != want {
			t.Errorf("%s = %q, want %q", oid, got, want)
		}
	}
}

func TestSnmprecErrors(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"no tag", "1.3.6.1|x", "line 1: want OID|tag|value"},
		{"bad oid", "1.3.x|2|1", "line 1: OID \"1.3.x\""},
		{"bad integer", "\n1.3.6|2|abc", "line 2: OID 1.3.6: bad Integer32"},
		{"bad hex", "1.3.6|4x|zz", "bad hex value"},
		{"bad ip", "1.3.6|64|1.2.3", "bad IpAddress"},
		{"unknown tag", "1.3.6|9|1", "unsupported type tag 9"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseSnmprec(strings.NewReader(c.in))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestRecordingWalk(t *testing.T) {
	rec, err := ParseSnmprec(strings.NewReader("1.3.6.1.2.1.1.1.0|4|a\n1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.9\n1.3.6.1.2.1.10.1|2|1\n1.3.6.1.2.1.2.1.0|2|3\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	rec.Walk(context.Background(), ".1.3.6.1.2.1.1", 0, func(v Var) error { got = append(got, v.Name); return nil })
	if diff := cmp.Diff([]string{"1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0"}, got); diff != "" {
		t.Errorf("walk of system (numeric order, 1.10 after 1.2):\n%s", diff)
	}
	got = nil
	rec.Walk(context.Background(), "1.3.6.1.2.1", 3, func(v Var) error { got = append(got, v.Name); return nil })
	if diff := cmp.Diff([]string{"1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0", "1.3.6.1.2.1.2.1.0"}, got); diff != "" {
		t.Errorf("capped walk:\n%s", diff)
	}
}

func TestCompareOID(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"1.3.6.1", "1.3.6.1", 0},
		{"1.3.6.1.2", "1.3.6.1.10", -1},
		{"1.3.6.1.10", "1.3.6.1.2", 1},
		{"1.3.6", "1.3.6.1", -1},
		{"1.3.6.1", "1.3.6", 1},
		{"1.0.8802", "1.3.6.1", -1},
		{"2", "10", -1},
	}
	for _, c := range cases {
		if got := CompareOID(c.a, c.b); got != c.want {
			t.Errorf("CompareOID(%s, %s) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestHasPrefix(t *testing.T) {
	cases := []struct {
		oid, root string
		want      bool
	}{
		{"1.3.6.1.2.1", "1.3.6.1", true},
		{"1.3.6.1", "1.3.6.1", true},
		{"1.3.6.10", "1.3.6.1", false},
		{"1.3.6", "1.3.6.1", false},
	}
	for _, c := range cases {
		if got := HasPrefix(c.oid, c.root); got != c.want {
			t.Errorf("HasPrefix(%s, %s) = %v", c.oid, c.root, got)
		}
	}
}

func TestNormalizeOID(t *testing.T) {
	cases := []struct{ in, want, err string }{
		{".1.3.6.1", "1.3.6.1", ""},
		{"1.3.06.001", "1.3.6.1", ""},
		{"1.3.6.0", "1.3.6.0", ""},
		{"", "", "empty OID"},
		{"1..3", "", "empty arc"},
		{"1.3.x", "", "not a number"},
		{"1.4294967296", "", "not a number"},
	}
	for _, c := range cases {
		got, err := NormalizeOID(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("NormalizeOID(%q) err = %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("NormalizeOID(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}
