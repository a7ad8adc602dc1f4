package satellite

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strings"
)

// DefaultWakeCommand is Debian's wakeonlan, sending UDP to the directed
// broadcast given.
const DefaultWakeCommand = "wakeonlan -i {broadcast} {macs}"

// LanscoutWakeCommand is the wake command for satellites with lanscout
// installed.
const LanscoutWakeCommand = "lanscout wake --broadcast {broadcast} {macs}"

// The placeholders of a wake command.
const (
	phBroadcast = "{broadcast}"
	phMACs      = "{macs}"
	phIface     = "{iface}"
)

// ErrBadTemplate is matched by every error ParseTemplate returns.
var ErrBadTemplate = errors.New("invalid wake command")

// literalToken is what a word of a template may contain besides the
// placeholders: no quotes, spaces, $, `, ;, |, &, <, >, (, ), *, ?, ~, \,
// #, !, { or }, so that the remote shell reads every word as itself.
var literalToken = regexp.MustCompile(`^[A-Za-z0-9_./:=,+@%-]+$`)

// ifaceName is what an {iface} may be: a Linux interface name.
var ifaceName = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,15}$`)

// Template is a parsed wake command: words, each a literal that needs no
// quoting or one of the placeholders {broadcast}, {macs} (one word per
// MAC) and {iface}. It is the only way a command is built, so nothing the
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
		case phBroadcast, phIface:
			continue
		}
		if strings.ContainsAny(w, "{}") {
			return Template{}, fmt.Errorf("%w %q: unknown placeholder in %q (want {broadcast}, {macs} or {iface}, each a whole word)", ErrBadTemplate, s, w)
		}
		if !literalToken.MatchString(w) {
			return Template{}, fmt.Errorf("%w %q: word %q may hold only letters, digits and _ . / : = , + @ %% - (no quotes, spaces or shell operators)", ErrBadTemplate, s, w)
		}
		if i == 0 && strings.HasPrefix(w, "-") {
			return Template{}, fmt.Errorf("%w %q: the command cannot start with %q", ErrBadTemplate, s, w)
		}
	}
	if words[0] == phMACs || words[0] == phBroadcast || words[0] == phIface {
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

// Uses reports whether the template has the placeholder ("{iface}").
func (t Template) Uses(placeholder string) bool {
	for _, w := range t.words {
		if w == placeholder {
			return true
		}
	}
	return false
}

// Expand builds the command line for one batch. broadcast must be an IPv4
// address when the template has {broadcast}; iface a valid interface name
// when it has {iface}; every MAC 6 bytes. The result is one line of words
// separated by single spaces, none needing quotes.
func (t Template) Expand(broadcast netip.Addr, iface string, macs []net.HardwareAddr) (string, error) {
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
	fixed := len(t.String()) - len(phMACs) + len("255.255.255.255") + 16
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
