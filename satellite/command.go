package satellite

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/lanscout/lanscout/wol"
)

// DefaultWakeCommand is Debian's wakeonlan, sending UDP to the directed
// broadcast given, once per configured port. Debian's wakeonlan has no
// SecureOn password option: with a password configured, use
// LanscoutWakeCommand (Wake refuses a template that cannot carry it).
const DefaultWakeCommand = "wakeonlan -i {broadcast} -p {port} {macs}"

// LanscoutWakeCommand is the wake command for satellites with lanscout
// installed.
const LanscoutWakeCommand = "lanscout wake --broadcast {broadcast} --port {port} {macs}"

// LanscoutPasswordWakeCommand is LanscoutWakeCommand carrying a SecureOn
// password.
const LanscoutPasswordWakeCommand = "lanscout wake --broadcast {broadcast} --port {port} --password {password} {macs}"

// The placeholders of a wake command.
const (
	phBroadcast = "{broadcast}"
	phMACs      = "{macs}"
	phIface     = "{iface}"
	phPort      = "{port}"
	phPassword  = "{password}"
)

// isPlaceholder reports whether w is one of the placeholders.
func isPlaceholder(w string) bool {
	switch w {
	case phBroadcast, phMACs, phIface, phPort, phPassword:
		return true
	}
	return false
}

// ErrBadTemplate is matched by every error ParseTemplate returns.
var ErrBadTemplate = errors.New("invalid wake command")

// literalToken is what a word of a template may contain besides the
// placeholders: no quotes, spaces, $, `, ;, |, &, <, >, (, ), *, ?, ~, \,
// #, !, { or }, so that the remote shell reads every word as itself.
var literalToken = regexp.MustCompile(`^[A-Za-z0-9_./:=,+@%-]+$`)

// ifaceName is what an {iface} may be: a Linux interface name.
var ifaceName = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,15}$`)

// passwordWord is what a {password} becomes: 4 or 6 bytes as lower-case
// hexadecimal pairs separated by colons, nothing the shell would read.
var passwordWord = regexp.MustCompile(`^[0-9a-f]{2}(:[0-9a-f]{2}){3}((:[0-9a-f]{2}){2})?$`)

// Template is a parsed wake command: words, each a literal that needs no
// quoting or one of the placeholders {broadcast}, {macs} (one word per
// MAC), {iface}, {port} (one UDP port: the command runs once per port)
// and {password} (a SecureOn password as aa:bb:cc:dd:ee:ff). It is the only way a command is built, so nothing the
// shell on the satellite would interpret can get into it: literals are
// checked when the template is parsed, and placeholders are filled with
// values that were parsed as addresses.
type Template struct {
	words []string
}

// ParseTemplate splits a wake command into words on spaces and checks
// each. It must contain {macs}; the shell's quoting, variables and
// operators are refused rather than interpreted.
func ParseTemplate(s string) (Template, error) {
	words := strings.Fields(s)
	if len(words) == 0 {
		return Template{}, fmt.Errorf("%w: empty", ErrBadTemplate)
	}
	macs := 0
	for i, w := range words {
		switch w {
		case phMACs:
			macs++
			continue
		case phBroadcast, phIface, phPort, phPassword:
			continue
		}
		if strings.ContainsAny(w, "{}") {
			return Template{}, fmt.Errorf("%w %q: unknown placeholder in %q (want {broadcast}, {macs}, {iface}, {port} or {password}, each a whole word)", ErrBadTemplate, s, w)
		}
		if !literalToken.MatchString(w) {
			return Template{}, fmt.Errorf("%w %q: word %q may hold only letters, digits and _ . / : = , + @ %% - (no quotes, spaces or shell operators)", ErrBadTemplate, s, w)
		}
		if i == 0 && strings.HasPrefix(w, "-") {
			return Template{}, fmt.Errorf("%w %q: the command cannot start with %q", ErrBadTemplate, s, w)
		}
	}
	if isPlaceholder(words[0]) {
		return Template{}, fmt.Errorf("%w %q: it must start with a program name", ErrBadTemplate, s)
	}
	if macs != 1 {
		return Template{}, fmt.Errorf("%w %q: it must contain {macs} exactly once", ErrBadTemplate, s)
	}
	return Template{words: words}, nil
}

// MustParseTemplate is ParseTemplate for constants.
func MustParseTemplate(s string) Template {
	t, err := ParseTemplate(s)
	if err != nil {
		panic(err)
	}
	return t
}

// String is the template as written (normalised spaces).
func (t Template) String() string { return strings.Join(t.words, " ") }

// Program is the command's first word, the program to look for on the
// satellite.
func (t Template) Program() string {
	if len(t.words) == 0 {
		return ""
	}
	return t.words[0]
}

// Uses reports whether the template has the placeholder ("{iface}",
// "{password}").
func (t Template) Uses(placeholder string) bool {
	for _, w := range t.words {
		if w == placeholder {
			return true
		}
	}
	return false
}

// Params fill a template's placeholders other than {macs}.
type Params struct {
	Broadcast netip.Addr
	Iface     string
	Port      int    // 1-65535 when the template has {port}
	Password  []byte // 4 or 6 bytes when the template has {password}
}

// Expand builds the command line for one batch with only {broadcast} and
// {iface} to fill (ExpandParams).
func (t Template) Expand(broadcast netip.Addr, iface string, macs []net.HardwareAddr) (string, error) {
	return t.ExpandParams(Params{Broadcast: broadcast, Iface: iface}, macs)
}

// ExpandParams builds the command line for one batch. p.Broadcast must be
// an IPv4 address when the template has {broadcast}; p.Iface a valid
// interface name when it has {iface}; p.Port a port when it has {port};
// p.Password 4 or 6 bytes when it has {password}; every MAC 6 bytes. The
// result is one line of words separated by single spaces, none needing
// quotes.
func (t Template) ExpandParams(p Params, macs []net.HardwareAddr) (string, error) {
	broadcast, iface := p.Broadcast, p.Iface
	if len(t.words) == 0 {
		return "", fmt.Errorf("%w: empty", ErrBadTemplate)
	}
	if len(macs) == 0 {
		return "", errors.New("no MAC to wake")
	}
	var b strings.Builder
	for i, w := range t.words {
		if i > 0 {
			b.WriteByte(' ')
		}
		switch w {
		case phBroadcast:
			if !broadcast.IsValid() || !broadcast.Is4() {
				return "", fmt.Errorf("wake command %q needs an IPv4 broadcast address, got %v", t, broadcast)
			}
			b.WriteString(broadcast.String())
		case phIface:
			if !ifaceName.MatchString(iface) {
				return "", fmt.Errorf("wake command %q needs an interface name, got %q", t, iface)
			}
			b.WriteString(iface)
		case phPort:
			if p.Port < 1 || p.Port > 65535 {
				return "", fmt.Errorf("wake command %q needs a UDP port 1-65535, got %d", t, p.Port)
			}
			b.WriteString(strconv.Itoa(p.Port))
		case phPassword:
			if len(p.Password) == 0 {
				return "", fmt.Errorf("wake command %q has {password} but no SecureOn password is configured (wake.password)", t)
			}
			// Checked again as text, so that nothing but hexadecimal
			// and colons can reach the remote shell whatever the bytes.
			pw := wol.FormatPassword(p.Password)
			if !passwordWord.MatchString(pw) {
				return "", fmt.Errorf("wake command %q: a SecureOn password is 4 or 6 bytes, got %d", t, len(p.Password))
			}
			b.WriteString(pw)
		case phMACs:
			for j, m := range macs {
				if len(m) != 6 {
					return "", fmt.Errorf("MAC %v is not 6 bytes", m)
				}
				if j > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(m.String())
			}
		default:
			b.WriteString(w)
		}
	}
	return b.String(), nil
}

// macWordLen is the length of one MAC in a command, with its space.
const macWordLen = len("00:00:00:00:00:00 ")

// Batches splits macs so that each batch's command stays under maxBytes
// and holds at most maxMACs. sshd hands the command to the user's shell as
// one argument (sh -c), which Linux caps at 128 KiB (MAX_ARG_STRLEN), so
// batches must be bounded whatever the MAC count.
func (t Template) Batches(macs []net.HardwareAddr, maxBytes, maxMACs int) ([][]net.HardwareAddr, error) {
	// Room for the longest value of each placeholder the template has.
	fixed := len(t.String()) - len(phMACs) + 16
	for ph, longest := range map[string]int{phBroadcast: len("255.255.255.255"), phIface: 15, phPort: 5,
		phPassword: len("00:00:00:00:00:00")} {
		if t.Uses(ph) {
			fixed += longest
		}
	}
	per := (maxBytes - fixed) / macWordLen
	if maxMACs > 0 && per > maxMACs {
		per = maxMACs
	}
	if per < 1 {
		return nil, fmt.Errorf("wake command %q leaves no room for a MAC under %d bytes", t, maxBytes)
	}
	var out [][]net.HardwareAddr
	for len(macs) > 0 {
		n := min(per, len(macs))
		out = append(out, macs[:n:n])
		macs = macs[n:]
	}
	return out, nil
}

// shellWord reports whether s can be sent to a remote shell unquoted.
func shellWord(s string) bool { return literalToken.MatchString(s) }
