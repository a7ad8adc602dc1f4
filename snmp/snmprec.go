package snmp

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// Recording is a device captured in snmpsim's .snmprec format. It is a
// Source, so a recorded device can be classified without a network.
type Recording struct {
	vars []Var // sorted by CompareOID, unique names
}

// NewRecording returns a Recording of vars, sorted and de-duplicated (the
// last value of a repeated OID wins).
func NewRecording(vars []Var) *Recording {
	byName := make(map[string]Var, len(vars))
	for _, v := range vars {
		byName[v.Name] = v
	}
	out := make([]Var, 0, len(byName))
	for _, v := range byName {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return CompareOID(out[i].Name, out[j].Name) < 0 })
	return &Recording{vars: out}
}

// Vars returns the recorded variables in OID order.
func (r *Recording) Vars() []Var { return r.vars }

// Get implements Source.
func (r *Recording) Get(ctx context.Context, oids []string) ([]Var, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]Var, len(oids))
	for i, oid := range oids {
		oid = strings.TrimPrefix(oid, ".")
		j := sort.Search(len(r.vars), func(k int) bool { return CompareOID(r.vars[k].Name, oid) >= 0 })
		if j < len(r.vars) && r.vars[j].Name == oid {
			out[i] = r.vars[j]
			continue
		}
		out[i] = Var{Name: oid, Kind: NoSuchObject}
	}
	return out, nil
}

// Walk implements Source.
func (r *Recording) Walk(ctx context.Context, root string, max int, fn func(Var) error) error {
	root = strings.TrimPrefix(root, ".")
	j := sort.Search(len(r.vars), func(k int) bool { return CompareOID(r.vars[k].Name, root) >= 0 })
	for n := 0; j < len(r.vars) && HasPrefix(r.vars[j].Name, root); j, n = j+1, n+1 {
		if max > 0 && n >= max {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(r.vars[j]); err != nil {
			return err
		}
	}
	return nil
}

// maxSnmprecLine bounds one record; real recordings stay far below it.
const maxSnmprecLine = 1 << 20

// ParseSnmprec reads a recording. Blank lines and lines starting with '#'
// are skipped; any other malformed line is an error naming its line number.
func ParseSnmprec(r io.Reader) (*Recording, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), maxSnmprecLine)
	var vars []Var
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		v, err := parseSnmprecLine(text)
		if err != nil {
			return nil, fmt.Errorf("snmprec line %d: %w", line, err)
		}
		vars = append(vars, v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read snmprec: %w", err)
	}
	return NewRecording(vars), nil
}

func parseSnmprecLine(line string) (Var, error) {
	name, rest, ok := strings.Cut(line, "|")
	if !ok {
		return Var{}, fmt.Errorf("want OID|tag|value, got %q", clip(line))
	}
	tag, value, ok := strings.Cut(rest, "|")
	if !ok {
		return Var{}, fmt.Errorf("want OID|tag|value, got %q", clip(line))
	}
	name, err := NormalizeOID(name)
	if err != nil {
		return Var{}, err
	}
	hexValue := strings.HasSuffix(tag, "x")
	escaped := strings.HasSuffix(tag, "e")
	tag = strings.TrimRight(tag, "xe")
	n, err := strconv.ParseUint(tag, 10, 8)
	if err != nil {
		return Var{}, fmt.Errorf("OID %s: bad type tag %q", name, tag)
	}
	v := Var{Name: name, Kind: Kind(n)}
	raw := []byte(value)
	if hexValue {
		if raw, err = hex.DecodeString(value); err != nil {
			return Var{}, fmt.Errorf("OID %s: bad hex value: %w", name, err)
		}
	} else if escaped {
		s, err := unescape(value)
		if err != nil {
			return Var{}, fmt.Errorf("OID %s: %w", name, err)
		}
		raw = []byte(s)
	}
	switch v.Kind {
	case Integer:
		if v.Int, err = strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64); err != nil {
			return Var{}, fmt.Errorf("OID %s: bad Integer32 %q", name, clip(string(raw)))
		}
	case Counter32, Gauge32, TimeTicks, Counter64:
		if v.Uint, err = strconv.ParseUint(strings.TrimSpace(string(raw)), 10, 64); err != nil {
			return Var{}, fmt.Errorf("OID %s: bad %s %q", name, v.Kind, clip(string(raw)))
		}
	case OctetString, Opaque:
		v.Bytes = raw
	case IPAddress:
		if hexValue {
			v.Bytes = raw
		} else {
			a, err := netip.ParseAddr(string(raw))
			if err != nil || !a.Is4() {
				return Var{}, fmt.Errorf("OID %s: bad IpAddress %q", name, clip(string(raw)))
			}
			b := a.As4()
			v.Bytes = b[:]
		}
	case ObjectID:
		if v.OID, err = NormalizeOID(string(raw)); err != nil {
			return Var{}, fmt.Errorf("OID %s: bad value: %w", name, err)
		}
	case Null, NoSuchObject, NoSuchInstance, EndOfMibView:
	default:
		return Var{}, fmt.Errorf("OID %s: unsupported type tag %d", name, n)
	}
	return v, nil
}

func unescape(s string) (string, error) {
	u, err := strconv.Unquote(`"` + strings.ReplaceAll(s, `"`, `\"`) + `"`)
	if err != nil {
		return "", fmt.Errorf("bad escaped value %q", clip(s))
	}
	return u, nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// WriteSnmprec writes vars in snmprec format, in the order given. Octet
// strings that are not printable single-line text are written in hex.
func WriteSnmprec(w io.Writer, vars []Var) error {
	bw := bufio.NewWriter(w)
	for _, v := range vars {
		if !v.Exists() {
			continue
		}
		var tag, value string
		switch v.Kind {
		case OctetString, Opaque:
			if isPlainText(v.Bytes) {
				tag, value = strconv.Itoa(int(v.Kind)), string(v.Bytes)
			} else {
				tag, value = strconv.Itoa(int(v.Kind))+"x", hex.EncodeToString(v.Bytes)
			}
		case IPAddress:
			// Only 4-byte addresses have a dotted form that reads back.
			if len(v.Bytes) == 4 {
				tag, value = strconv.Itoa(int(v.Kind)), v.Text()
			} else {
				tag, value = strconv.Itoa(int(v.Kind))+"x", hex.EncodeToString(v.Bytes)
			}
		default:
			tag, value = strconv.Itoa(int(v.Kind)), v.Text()
		}
		if _, err := fmt.Fprintf(bw, "%s|%s|%s\n", v.Name, tag, value); err != nil {
			return fmt.Errorf("write snmprec: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write snmprec: %w", err)
	}
	return nil
}

// isPlainText reports whether b can be written unencoded: printable ASCII
// without the record separators. Anything else goes in hex, which every
// snmprec reader (snmpsim included) decodes byte for byte, whereas raw
// non-ASCII text would depend on the reader's idea of the file encoding.
func isPlainText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\t' || c >= 0x7f || c == '|' {
			return false
		}
	}
	return true
}
