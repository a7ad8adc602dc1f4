package export

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// Device names, vendors and models come off the network: whatever they
// hold, the quoting must give back exactly one string token.

// icingaUnquote reads an Icinga 2 string literal as the DSL lexer does,
// with "$$" as a literal dollar (as attribute strings read it).
func icingaUnquote(t *testing.T, q string) string {
	t.Helper()
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		t.Fatalf("not a quoted string: %q", q)
	}
	var b strings.Builder
	body := q[1 : len(q)-1]
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '"':
			t.Fatalf("unescaped quote at %d in %q", i, q)
		case c == '\n' || c == '\r':
			t.Fatalf("raw line break in %q", q)
		case c == '$':
			if i+1 >= len(body) || body[i+1] != '$' {
				t.Fatalf("lone $ at %d in %q", i, q)
			}
			b.WriteByte('$')
			i++
		case c == '\\':
			if i+1 >= len(body) {
				t.Fatalf("trailing backslash in %q", q)
			}
			i++
			switch body[i] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case '"', '\\':
				b.WriteByte(body[i])
			default:
				t.Fatalf("unknown escape \\%c in %q", body[i], q)
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// icingaExpected is s as it should come back: valid UTF-8, control
// characters other than the escapable ones as spaces.
func icingaExpected(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '\n', '\r', '\t', '\b', '\f':
			return r
		}
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, string(utf8.RuneError)))
}

func FuzzIcingaString(f *testing.F) {
	for _, s := range []string{"", "plain", `evil"; object Host "x" {`, "a\\", "$x$", "line\nbreak", "\x00\x7f\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := icingaUnquote(t, icingaString(s)), icingaExpected(s); got != want {
			t.Errorf("round trip of %q: %q, want %q", s, got, want)
		}
	})
}

var unescapedSemicolon = regexp.MustCompile(`(^|[^\\]);`)

func FuzzNagiosValue(f *testing.F) {
	for _, s := range []string{"", "a;b", "x\\", "0 \\", "line\nbreak\r", "  pad  ", "\\;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := nagiosValue(s)
		if strings.ContainsAny(v, "\n\r\x00") || !utf8.ValidString(v) {
			t.Errorf("%q → %q: a line break, NUL or invalid UTF-8", s, v)
		}
		if unescapedSemicolon.MatchString(v) {
			t.Errorf("%q → %q: an unescaped ';' starts a comment", s, v)
		}
		if v != strings.TrimSpace(v) || strings.HasSuffix(v, `\`) {
			t.Errorf("%q → %q: padding or a trailing backslash", s, v)
		}
	})
}

var objectName = regexp.MustCompile(`^[a-z0-9._-]*$`)

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"", "Core-SW1", "évil name!", strings.Repeat("x", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := sanitize(s)
		if !objectName.MatchString(n) || len(n) > maxName {
			t.Errorf("sanitize(%q) = %q", s, n)
		}
	})
}
