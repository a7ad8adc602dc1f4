package snmp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Version is an SNMP protocol version.
type Version int

// The versions lanscout speaks.
const (
	V1  Version = 1
	V2c Version = 2
	V3  Version = 3
)

// String returns "1", "2c" or "3", as net-snmp's -v flag spells them.
func (v Version) String() string {
	switch v {
	case V1:
		return "1"
	case V2c:
		return "2c"
	case V3:
		return "3"
	}
	return fmt.Sprintf("Version(%d)", int(v))
}

// ParseVersion accepts 1, 2c and 3, with or without a leading "v".
func ParseVersion(s string) (Version, error) {
	switch strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "v") {
	case "1":
		return V1, nil
	case "2c", "2":
		return V2c, nil
	case "3":
		return V3, nil
	}
	return 0, fmt.Errorf("unknown SNMP version %q (want 1, 2c or 3)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (v Version) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (v *Version) UnmarshalText(b []byte) error {
	p, err := ParseVersion(string(b))
	if err != nil {
		return err
	}
	*v = p
	return nil
}

// Secret is a community or pass phrase. Every way of printing or encoding
// it shows "<secret>", so a Credential can be logged or dumped safely; use
// string(s) where the real value is needed.
type Secret string

const secretMask = "<secret>"

func (s Secret) String() string   { return secretMask }
func (s Secret) GoString() string { return strconv.Quote(secretMask) }

// Format implements fmt.Formatter so that no verb (%x, %q, %#v, ...) can
// reveal the value.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		io.WriteString(f, strconv.Quote(secretMask))
		return
	}
	io.WriteString(f, secretMask)
}

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(secretMask)), nil }

// MarshalYAML implements yaml.Marshaler.
func (s Secret) MarshalYAML() (any, error) { return secretMask, nil }

// MarshalText implements encoding.TextMarshaler (used by slog and others).
func (s Secret) MarshalText() ([]byte, error) { return []byte(secretMask), nil }

// AuthProto is an SNMPv3 authentication protocol; "" means none.
type AuthProto string

// Authentication protocols.
const (
	NoAuth AuthProto = ""
	MD5    AuthProto = "MD5"
	SHA    AuthProto = "SHA"
	SHA224 AuthProto = "SHA-224"
	SHA256 AuthProto = "SHA-256"
	SHA384 AuthProto = "SHA-384"
	SHA512 AuthProto = "SHA-512"
)

// ParseAuthProto accepts the names above in any case, with or without the
// dash (SHA256, sha-256), SHA1 for SHA, and "none" or "" for no
// authentication.
func ParseAuthProto(s string) (AuthProto, error) {
	switch strings.ReplaceAll(strings.ToUpper(strings.TrimSpace(s)), "-", "") {
	case "", "NONE":
		return NoAuth, nil
	case "MD5":
		return MD5, nil
	case "SHA", "SHA1":
		return SHA, nil
	case "SHA224":
		return SHA224, nil
	case "SHA256":
		return SHA256, nil
	case "SHA384":
		return SHA384, nil
	case "SHA512":
		return SHA512, nil
	}
	return "", fmt.Errorf("unknown auth protocol %q (want MD5, SHA, SHA-224, SHA-256, SHA-384 or SHA-512)", s)
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *AuthProto) UnmarshalText(b []byte) error {
	p, err := ParseAuthProto(string(b))
	if err != nil {
		return err
	}
	*a = p
	return nil
}

// PrivProto is an SNMPv3 privacy (encryption) protocol; "" means none.
type PrivProto string

// Privacy protocols. AES-192 and AES-256 derive keys as in the Blumenthal
// draft (net-snmp); the C variants use Reeder's key extension, as Cisco does.
const (
	NoPriv  PrivProto = ""
	DES     PrivProto = "DES"
	AES     PrivProto = "AES"
	AES192  PrivProto = "AES-192"
	AES256  PrivProto = "AES-256"
	AES192C PrivProto = "AES-192C"
	AES256C PrivProto = "AES-256C"
)

// ParsePrivProto accepts the names above in any case, with or without the
// dash, AES128 for AES, and "none" or "" for no privacy.
func ParsePrivProto(s string) (PrivProto, error) {
	switch strings.ReplaceAll(strings.ToUpper(strings.TrimSpace(s)), "-", "") {
	case "", "NONE":
		return NoPriv, nil
	case "DES":
		return DES, nil
	case "AES", "AES128":
		return AES, nil
	case "AES192":
		return AES192, nil
	case "AES256":
		return AES256, nil
	case "AES192C":
		return AES192C, nil
	case "AES256C":
		return AES256C, nil
	}
	return "", fmt.Errorf("unknown privacy protocol %q (want DES, AES, AES-192, AES-256, AES-192C or AES-256C)", s)
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *PrivProto) UnmarshalText(b []byte) error {
	q, err := ParsePrivProto(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// Credential is one way to talk to an agent: a community for v1/v2c, or a
// USM user for v3. Name identifies it in logs, results and the credential
// memory, so those never need the secret itself.
type Credential struct {
	Name      string    `json:"name" yaml:"name"`
	Version   Version   `json:"version" yaml:"version"`
	Community Secret    `json:"community,omitempty" yaml:"community,omitempty"`
	User      string    `json:"user,omitempty" yaml:"user,omitempty"`
	Auth      AuthProto `json:"auth,omitempty" yaml:"auth,omitempty"`
	AuthPass  Secret    `json:"auth_password,omitempty" yaml:"auth_password,omitempty"`
	Priv      PrivProto `json:"priv,omitempty" yaml:"priv,omitempty"`
	PrivPass  Secret    `json:"priv_password,omitempty" yaml:"priv_password,omitempty"`
	// Context is the v3 context name; some agents (printers, multi-instance
	// switches) only answer within a named context.
	Context string `json:"context,omitempty" yaml:"context,omitempty"`
}

// SecurityLevel returns noAuthNoPriv, authNoPriv or authPriv for v3, and ""
// for community-based versions.
func (c Credential) SecurityLevel() string {
	switch {
	case c.Version != V3:
		return ""
	case c.Auth == NoAuth:
		return "noAuthNoPriv"
	case c.Priv == NoPriv:
		return "authNoPriv"
	}
	return "authPriv"
}

// minPassLen is the USM minimum pass phrase length (RFC 3414 section 11.2);
// net-snmp agents refuse shorter ones, so catching it here gives a clear
// error instead of a silent authentication failure.
const minPassLen = 8

// Validate checks that c is complete. Its errors name the credential and
// the field, never a secret's value.
func (c Credential) Validate() error {
	bad := func(format string, args ...any) error {
		if c.Name == "" {
			return fmt.Errorf(format, args...)
		}
		return fmt.Errorf("credential %s: %s", c.Name, fmt.Sprintf(format, args...))
	}
	switch c.Version {
	case V1, V2c:
		if c.Community == "" {
			return bad("v%s needs a community", c.Version)
		}
		if c.User != "" || c.Auth != NoAuth || c.Priv != NoPriv || c.AuthPass != "" || c.PrivPass != "" || c.Context != "" {
			return bad("v%s takes only a community (user, auth, priv and context are v3 settings)", c.Version)
		}
	case V3:
		if c.Community != "" {
			return bad("v3 takes a user, not a community")
		}
		if c.User == "" {
			return bad("v3 needs a user")
		}
		if _, err := ParseAuthProto(string(c.Auth)); err != nil {
			return bad("%v", err)
		}
		if _, err := ParsePrivProto(string(c.Priv)); err != nil {
			return bad("%v", err)
		}
		if c.Auth == NoAuth && c.AuthPass != "" {
			return bad("auth password given without an auth protocol")
		}
		if c.Auth != NoAuth && len(c.AuthPass) < minPassLen {
			return bad("auth password must be at least %d characters", minPassLen)
		}
		if c.Priv != NoPriv && c.Auth == NoAuth {
			return bad("privacy needs authentication (no auth protocol given)")
		}
		if c.Priv == NoPriv && c.PrivPass != "" {
			return bad("privacy password given without a privacy protocol")
		}
		if c.Priv != NoPriv && len(c.PrivPass) < minPassLen {
			return bad("privacy password must be at least %d characters", minPassLen)
		}
	default:
		return bad("unknown SNMP version %d", int(c.Version))
	}
	return nil
}

// ParseCommunityFlag parses a --community value: "public" is v2c, and a
// "v1:" or "v2c:" prefix picks the version ("v1:public"). Anything else is
// the community itself, colons included.
func ParseCommunityFlag(s string) (Credential, error) {
	c := Credential{Version: V2c, Community: Secret(s)}
	if rest, ok := strings.CutPrefix(s, "v1:"); ok {
		c.Version, c.Community = V1, Secret(rest)
	} else if rest, ok := strings.CutPrefix(s, "v2c:"); ok {
		c.Community = Secret(rest)
	}
	if c.Community == "" {
		return Credential{}, errors.New("--community: empty community")
	}
	return c, nil
}

// ParseV3Flag parses an --snmp-v3 value:
//
//	user                                   noAuthNoPriv
//	user:auth:authpass                     authNoPriv
//	user:auth:authpass:priv:privpass       authPriv
//
// each optionally followed by "@context" to set the v3 context name, e.g.
// "admin:SHA-256:secret123:AES:secret456@printer". A ':', '@' or '\' inside
// a field is written escaped with a backslash ("pa\:ss\@word"). Pass phrases
// with many special characters are easier in a --credentials file.
func ParseV3Flag(s string) (Credential, error) {
	fields, context, err := splitV3Flag(s)
	if err != nil {
		return Credential{}, fmt.Errorf("--snmp-v3: %w", err)
	}
	c := Credential{Version: V3, User: fields[0], Context: context}
	switch len(fields) {
	case 1:
	case 3, 5:
		if c.Auth, err = ParseAuthProto(fields[1]); err != nil {
			return Credential{}, fmt.Errorf("--snmp-v3: %w", err)
		}
		c.AuthPass = Secret(fields[2])
		if len(fields) == 5 {
			if c.Priv, err = ParsePrivProto(fields[3]); err != nil {
				return Credential{}, fmt.Errorf("--snmp-v3: %w", err)
			}
			c.PrivPass = Secret(fields[4])
		}
	default:
		return Credential{}, fmt.Errorf("--snmp-v3: want user, user:auth:authpass or user:auth:authpass:priv:privpass, got %d fields", len(fields))
	}
	if c.User == "" {
		return Credential{}, errors.New("--snmp-v3: empty user")
	}
	if err := c.Validate(); err != nil {
		return Credential{}, fmt.Errorf("--snmp-v3: %w", err)
	}
	return c, nil
}

// splitV3Flag splits on unescaped ':' and cuts the context at the first
// unescaped '@'. Errors never quote the input, which holds pass phrases.
func splitV3Flag(s string) (fields []string, context string, err error) {
	var cur strings.Builder
	inContext := false
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '\\':
			if i+1 >= len(s) {
				return nil, "", errors.New("trailing backslash")
			}
			i++
			cur.WriteByte(s[i])
		case ch == ':' && !inContext:
			fields = append(fields, cur.String())
			cur.Reset()
		case ch == '@':
			if inContext {
				return nil, "", errors.New("more than one unescaped '@'")
			}
			fields = append(fields, cur.String())
			cur.Reset()
			inContext = true
		case ch == ':' && inContext:
			return nil, "", errors.New("':' in the context name (escape it as '\\:')")
		default:
			cur.WriteByte(ch)
		}
	}
	if inContext {
		context = cur.String()
		if context == "" {
			return nil, "", errors.New("empty context after '@'")
		}
	} else {
		fields = append(fields, cur.String())
	}
	return fields, context, nil
}

// credentialsFile is the YAML layout of a --credentials file:
//
//	credentials:
//	  - name: office          # optional; default v2c-1, v3-1, ...
//	    version: 2c
//	    community: public
//	  - name: core
//	    version: 3
//	    user: monitor
//	    auth: SHA-256
//	    auth_password: "..."
//	    priv: AES
//	    priv_password: "..."
//	    context: ""           # optional v3 context name
type credentialsFile struct {
	Credentials []Credential `yaml:"credentials"`
}

// LoadCredentials reads a YAML credentials file (layout above). Unknown keys
// are errors with their line numbers, so a typo such as "auth_pasword"
// cannot silently drop a setting. The result has default names filled in
// and is validated.
func LoadCredentials(path string) ([]Credential, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	creds, err := ParseCredentials(data)
	if err != nil {
		return nil, fmt.Errorf("credentials %s: %w", path, err)
	}
	return creds, nil
}

// ParseCredentials parses the content of a credentials file.
func ParseCredentials(data []byte) ([]Credential, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f credentialsFile
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("no credentials")
		}
		return nil, scrubYAMLError(err)
	}
	if len(f.Credentials) == 0 {
		return nil, errors.New("no credentials")
	}
	return NormalizeCredentials(f.Credentials)
}

// scrubYAMLError drops the parts of yaml type errors that quote scalar
// values (yaml writes "cannot unmarshal !!str `hunter2` into ..."), since a
// value on a mistyped line may be a pass phrase.
func scrubYAMLError(err error) error {
	msg := err.Error()
	var out []string
	for _, line := range strings.Split(msg, "\n") {
		if i := strings.Index(line, "`"); i >= 0 {
			if j := strings.LastIndex(line, "`"); j > i {
				line = line[:i] + "(value hidden)" + line[j+1:]
			}
		}
		out = append(out, line)
	}
	return errors.New(strings.Join(out, "\n"))
}

var knownCredentialKeys = map[string]bool{
	"name": true, "version": true, "community": true, "user": true, "auth": true,
	"auth_password": true, "priv": true, "priv_password": true, "context": true,
}

// UnmarshalYAML decodes a Credential, reporting bad protocol names with
// the line they are on.
func (c *Credential) UnmarshalYAML(n *yaml.Node) error {
	type plain struct {
		Name      string `yaml:"name"`
		Version   string `yaml:"version"`
		Community string `yaml:"community"`
		User      string `yaml:"user"`
		Auth      string `yaml:"auth"`
		AuthPass  string `yaml:"auth_password"`
		Priv      string `yaml:"priv"`
		PrivPass  string `yaml:"priv_password"`
		Context   string `yaml:"context"`
	}
	// Node.Decode does not inherit the decoder's KnownFields, so unknown
	// keys are checked here.
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if !knownCredentialKeys[k.Value] {
				return fmt.Errorf("line %d: unknown key %q in credential", k.Line, k.Value)
			}
		}
	}
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	at := func(err error) error { return fmt.Errorf("line %d: %w", n.Line, err) }
	var err error
	out := Credential{Name: p.Name, Community: Secret(p.Community), User: p.User,
		AuthPass: Secret(p.AuthPass), PrivPass: Secret(p.PrivPass), Context: p.Context}
	if p.Version == "" {
		// A community alone means v2c, a user alone means v3.
		out.Version = V2c
		if p.User != "" {
			out.Version = V3
		}
	} else if out.Version, err = ParseVersion(p.Version); err != nil {
		return at(err)
	}
	if out.Auth, err = ParseAuthProto(p.Auth); err != nil {
		return at(err)
	}
	if out.Priv, err = ParsePrivProto(p.Priv); err != nil {
		return at(err)
	}
	*c = out
	return nil
}

// NormalizeCredentials returns a copy of creds with empty names filled in
// (v1-1, v2c-1, v2c-2, v3-1, ... counted per version), every credential
// validated, and names checked to be unique.
func NormalizeCredentials(creds []Credential) ([]Credential, error) {
	out := make([]Credential, len(creds))
	copy(out, creds)
	seen := map[string]bool{}
	for _, c := range out {
		if c.Name != "" {
			seen[c.Name] = true
		}
	}
	count := map[Version]int{}
	for i := range out {
		if out[i].Name != "" {
			continue
		}
		for {
			count[out[i].Version]++
			name := fmt.Sprintf("v%s-%d", out[i].Version, count[out[i].Version])
			if !seen[name] {
				out[i].Name, seen[name] = name, true
				break
			}
		}
	}
	names := map[string]bool{}
	for _, c := range out {
		if names[c.Name] {
			return nil, fmt.Errorf("credential %s: name used twice", c.Name)
		}
		names[c.Name] = true
		if err := c.Validate(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
