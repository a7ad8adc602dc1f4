package snmp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

func TestParseCommunityFlag(t *testing.T) {
	cases := []struct {
		in   string
		want Credential
		err  bool
	}{
		{"public", Credential{Version: V2c, Community: "public"}, false},
		{"v1:public", Credential{Version: V1, Community: "public"}, false},
		{"v2c:pub:lic", Credential{Version: V2c, Community: "pub:lic"}, false},
		{"a:b", Credential{Version: V2c, Community: "a:b"}, false},
		{"", Credential{}, true},
		{"v1:", Credential{}, true},
	}
	for _, c := range cases {
		got, err := ParseCommunityFlag(c.in)
		if (err != nil) != c.err {
			t.Errorf("ParseCommunityFlag(%q) err = %v", c.in, err)
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("ParseCommunityFlag(%q):\n%s", c.in, diff)
		}
	}
}

func TestParseV3Flag(t *testing.T) {
	cases := []struct {
		in   string
		want Credential
		err  string
	}{
		{"alice", Credential{Version: V3, User: "alice"}, ""},
		{"alice@printer", Credential{Version: V3, User: "alice", Context: "printer"}, ""},
		{"alice:SHA-256:authpass1", Credential{Version: V3, User: "alice", Auth: SHA256, AuthPass: "authpass1"}, ""},
		{"alice:sha:authpass1:aes:privpass1", Credential{Version: V3, User: "alice", Auth: SHA, AuthPass: "authpass1", Priv: AES, PrivPass: "privpass1"}, ""},
		{"alice:md5:authpass1:des:privpass1@ctx", Credential{Version: V3, User: "alice", Auth: MD5, AuthPass: "authpass1", Priv: DES, PrivPass: "privpass1", Context: "ctx"}, ""},
		{`al\:ice:SHA512:pa\:ss\@w\\rd:AES-256C:p\@ssword`, Credential{Version: V3, User: "al:ice", Auth: SHA512, AuthPass: `pa:ss@w\rd`, Priv: AES256C, PrivPass: "p@ssword"}, ""},
		{"bob:SHA224:authpass1:AES192:privpass1", Credential{Version: V3, User: "bob", Auth: SHA224, AuthPass: "authpass1", Priv: AES192, PrivPass: "privpass1"}, ""},
		{"bob:SHA-384:authpass1:aes-192c:privpass1", Credential{Version: V3, User: "bob", Auth: SHA384, AuthPass: "authpass1", Priv: AES192C, PrivPass: "privpass1"}, ""},
		{"", Credential{}, "empty user"},
		{"alice:SHA", Credential{}, "got 2 fields"},
		{"alice:SHA:authpass1:AES", Credential{}, "got 4 fields"},
		{"alice:SHA:short", Credential{}, "at least 8"},
		{"alice:SHA:authpass1:AES:short", Credential{}, "at least 8"},
		{"alice:BLAKE:authpass1", Credential{}, "unknown auth protocol"},
		{"alice:SHA:authpass1:ROT13:privpass1", Credential{}, "unknown privacy protocol"},
		{"alice:SHA:authpass1@", Credential{}, "empty context"},
		{"alice@a@b", Credential{}, "more than one"},
		{`alice\`, Credential{}, "trailing backslash"},
	}
	for _, c := range cases {
		got, err := ParseV3Flag(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseV3Flag(%q) err = %v, want %q", c.in, err, c.err)
			}
			for _, secret := range []string{"authpass1", "privpass1", "short"} {
				if err != nil && strings.Contains(err.Error(), secret) {
					t.Errorf("ParseV3Flag(%q) error %q shows a pass phrase", c.in, err)
				}
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseV3Flag(%q): %v", c.in, err)
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("ParseV3Flag(%q):\n%s", c.in, diff)
		}
	}
}

func TestLoadCredentials(t *testing.T) {
	good := `
credentials:
  - community: public
  - name: old
    version: 1
    community: private
  - version: 3
    user: monitor
    auth: SHA-256
    auth_password: "hunter2-auth"
    priv: AES-256
    priv_password: "hunter2-priv"
    context: printer
  - community: other
`
	got, err := ParseCredentials([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	want := []Credential{
		{Name: "v2c-1", Version: V2c, Community: "public"},
		{Name: "old", Version: V1, Community: "private"},
		{Name: "v3-1", Version: V3, User: "monitor", Auth: SHA256, AuthPass: "hunter2-auth", Priv: AES256, PrivPass: "hunter2-priv", Context: "printer"},
		{Name: "v2c-2", Version: V2c, Community: "other"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("credentials:\n%s", diff)
	}
	path := filepath.Join(t.TempDir(), "creds.yml")
	os.WriteFile(path, []byte(good), 0o600)
	if _, err := LoadCredentials(path); err != nil {
		t.Errorf("LoadCredentials: %v", err)
	}

	bad := []struct{ name, in, want string }{
		{"unknown key", "credentials:\n  - community: public\n    comunity: x\n", "line 3: unknown key \"comunity\""},
		{"unknown top key", "credential:\n  - community: public\n", "line 1: field credential not found"},
		{"bad version", "credentials:\n  - version: 4\n    community: hunter2-comm\n", "line 2: unknown SNMP version"},
		{"bad auth", "credentials:\n  - user: u\n    auth: ROT13\n    auth_password: hunter2-auth\n", "line 2: unknown auth protocol"},
		{"short pass", "credentials:\n  - user: u\n    auth: SHA\n    auth_password: hunter2\n", "auth password must be at least 8"},
		{"priv without auth", "credentials:\n  - user: u\n    priv: AES\n    priv_password: hunter2-priv\n", "privacy needs authentication"},
		{"community on v3", "credentials:\n  - version: 3\n    user: u\n    community: hunter2-comm\n", "v3 takes a user"},
		{"mistyped", "credentials:\n  - community: [hunter2-comm]\n", "cannot unmarshal"},
		{"mistyped scalar", "credentials: hunter2-comm\n", "(value hidden)"},
		{"duplicate", "credentials:\n  - name: a\n    community: hunter2-comm\n  - name: a\n    community: x\n", "name used twice"},
		{"empty", "", "no credentials"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseCredentials([]byte(c.in))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows a secret", err)
			}
		})
	}
}

// TestSecretsNeverPrinted formats a credential every way a log line,
// error or dump might.
func TestSecretsNeverPrinted(t *testing.T) {
	c := Credential{Name: "n", Version: V3, User: "u", Auth: SHA, AuthPass: "hunter2-auth", Priv: AES, PrivPass: "hunter2-priv"}
	v2 := Credential{Name: "m", Version: V2c, Community: "hunter2-comm"}
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		outs = append(outs, fmt.Sprintf(verb, c), fmt.Sprintf(verb, v2), fmt.Sprintf(verb, c.AuthPass), fmt.Sprintf(verb, &c))
	}
	j, _ := json.Marshal([]Credential{c, v2})
	y, _ := yaml.Marshal([]Credential{c, v2})
	outs = append(outs, string(j), string(y))
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "cred", c, "secret", c.PrivPass)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "cred", v2, "secret", v2.Community)
	outs = append(outs, logs.String())
	for _, out := range outs {
		if strings.Contains(out, "hunter2") || strings.Contains(out, fmt.Sprintf("%x", "hunter2")) {
			t.Errorf("secret printed: %s", out)
		}
	}
	if !strings.Contains(string(j), `"auth_password":"\u003csecret\u003e"`) { // json escapes < and >
		t.Errorf("JSON: %s", j)
	}
}

func TestNormalizeCredentials(t *testing.T) {
	got, err := NormalizeCredentials([]Credential{
		{Version: V2c, Community: "a"}, {Name: "v2c-2", Version: V2c, Community: "b"},
		{Version: V2c, Community: "c"}, {Version: V1, Community: "d"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range got {
		names = append(names, c.Name)
	}
	if diff := cmp.Diff([]string{"v2c-1", "v2c-2", "v2c-3", "v1-1"}, names); diff != "" {
		t.Errorf("names:\n%s", diff)
	}
}
