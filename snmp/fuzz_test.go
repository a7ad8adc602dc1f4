package snmp

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.yaml.in/yaml/v3"
)

// FuzzParseSnmprec: parsing never panics, and whatever parses writes back
// to a file that parses to the same variables.
func FuzzParseSnmprec(f *testing.F) {
	if seed, err := os.ReadFile("testdata/roundtrip.snmprec"); err == nil {
		f.Add(string(seed))
	}
	f.Add("1.3.6.1.2.1.1.1.0|4|hello\n1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.9\n")
	f.Add("1.3.6|64x|0a00\n1.3.7|4e|a\\x00b\n1.3.8|70|1\n")
	f.Fuzz(func(t *testing.T, in string) {
		rec, err := ParseSnmprec(strings.NewReader(in))
		if err != nil {
			return
		}
		var want []Var
		for _, v := range rec.Vars() {
			if v.Exists() {
				want = append(want, v)
			}
		}
		var buf bytes.Buffer
		if err := WriteSnmprec(&buf, rec.Vars()); err != nil {
			t.Fatal(err)
		}
		back, err := ParseSnmprec(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("written recording does not parse: %v\n%s", err, buf.String())
		}
		if diff := cmp.Diff(want, back.Vars(), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip changed variables:\n%s", diff)
		}
	})
}

// FuzzNormalizeOID checks NormalizeOID is idempotent and CompareOID is a
// total order that agrees with arc-by-arc numeric comparison.
func FuzzNormalizeOID(f *testing.F) {
	f.Add("1.3.6.1", ".1.3.6.1.2")
	f.Add("1.3.06", "1.3.10")
	f.Add("2", "10.0")
	f.Fuzz(func(t *testing.T, a, b string) {
		na, err := NormalizeOID(a)
		if err != nil {
			return
		}
		nb, err := NormalizeOID(b)
		if err != nil {
			return
		}
		if again, err := NormalizeOID(na); err != nil || again != na {
			t.Fatalf("NormalizeOID not idempotent: %q -> %q -> %q, %v", a, na, again, err)
		}
		c := CompareOID(na, nb)
		if c != -CompareOID(nb, na) {
			t.Fatalf("CompareOID not antisymmetric on %s, %s", na, nb)
		}
		if CompareOID(na, na) != 0 {
			t.Fatalf("CompareOID(%s, itself) != 0", na)
		}
		if want := numericCompare(na, nb); c != want {
			t.Fatalf("CompareOID(%s, %s) = %d, numeric order says %d", na, nb, c, want)
		}
		if (c == 0) != (na == nb) {
			t.Fatalf("equal OIDs must be equal strings: %s, %s", na, nb)
		}
		if HasPrefix(nb, na) && c > 0 {
			t.Fatalf("%s is under %s but sorts before it", nb, na)
		}
	})
}

func numericCompare(a, b string) int {
	x, y := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(x) && i < len(y); i++ {
		m, _ := strconv.ParseUint(x[i], 10, 64)
		n, _ := strconv.ParseUint(y[i], 10, 64)
		if m != n {
			if m < n {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(x) < len(y):
		return -1
	case len(x) > len(y):
		return 1
	}
	return 0
}

// FuzzParseV3Flag: any user/protocol/pass phrase combination written with
// the documented escapes parses back to itself, and errors never show a
// pass phrase.
func FuzzParseV3Flag(f *testing.F) {
	f.Add("alice", "SHA", "pass:word", "AES", "p@ss\\word", "ctx")
	f.Add("", "", "", "", "", "")
	f.Add("u", "MD5", "x", "DES", "y", "")
	f.Fuzz(func(t *testing.T, user, auth, authPass, priv, privPass, context string) {
		const marker = "SECRET"
		for _, s := range []string{user, auth, priv, context} {
			if strings.Contains(s, marker) {
				return
			}
		}
		authPass, privPass = marker+authPass, marker+privPass
		esc := func(s string) string {
			return strings.NewReplacer(`\`, `\\`, `:`, `\:`, `@`, `\@`).Replace(s)
		}
		in := esc(user) + ":" + esc(auth) + ":" + esc(authPass) + ":" + esc(priv) + ":" + esc(privPass)
		if context != "" {
			in += "@" + esc(context)
		}
		c, err := ParseV3Flag(in)
		if err != nil {
			if strings.Contains(err.Error(), marker) {
				t.Fatalf("error shows a pass phrase: %v", err)
			}
			return
		}
		if c.User != user || string(c.AuthPass) != authPass || string(c.PrivPass) != privPass || c.Context != context {
			t.Fatalf("round trip: %q gave user %q context %q", in, c.User, c.Context)
		}
		// The community parser must accept anything non-empty.
		if _, err := ParseCommunityFlag(user); err != nil && user != "" && user != "v1:" && user != "v2c:" {
			t.Fatalf("ParseCommunityFlag(%q): %v", user, err)
		}
	})
}

// FuzzParseCredentials: a credentials file built from arbitrary field
// values never panics the parser, and its errors never show a secret.
func FuzzParseCredentials(f *testing.F) {
	f.Add("2c", "", "", "", "", "name")
	f.Add("3", "u", "SHA", "AES", "ctx", "")
	f.Add("4", "", "ROT13", "", "", "comunity")
	f.Fuzz(func(t *testing.T, version, user, auth, priv, context, extraKey string) {
		const marker = "SECRET"
		for _, s := range []string{version, user, auth, priv, context, extraKey} {
			if strings.Contains(s, marker) {
				return
			}
		}
		c := map[string]string{
			"version": version, "user": user, "auth": auth, "priv": priv, "context": context,
			"community": marker + "-comm", "auth_password": marker + "-auth", "priv_password": marker + "-priv",
		}
		switch extraKey {
		case "", "name", "version", "user", "auth", "priv", "context":
			// Not secrets: errors may quote them.
		default:
			c[extraKey] = marker + "-extra"
		}
		doc, err := yaml.Marshal(map[string]any{"credentials": []map[string]string{c}})
		if err != nil {
			return
		}
		creds, err := ParseCredentials(doc)
		if err != nil {
			if strings.Contains(err.Error(), marker) {
				t.Fatalf("error shows a secret: %v", err)
			}
			return
		}
		if len(creds) != 1 {
			t.Fatalf("%d credentials", len(creds))
		}
	})
}
