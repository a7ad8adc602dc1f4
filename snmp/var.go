package snmp

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind is the SNMP type of a value. The numbers are the ASN.1 BER tags, which
// are also the type tags of snmprec files.
type Kind uint8

// The kinds lanscout handles.
const (
	Integer        Kind = 0x02
	OctetString    Kind = 0x04
	Null           Kind = 0x05
	ObjectID       Kind = 0x06
	IPAddress      Kind = 0x40
	Counter32      Kind = 0x41
	Gauge32        Kind = 0x42
	TimeTicks      Kind = 0x43
	Opaque         Kind = 0x44
	Counter64      Kind = 0x46
	NoSuchObject   Kind = 0x80
	NoSuchInstance Kind = 0x81
	EndOfMibView   Kind = 0x82
)

func (k Kind) String() string {
	switch k {
	case Integer:
		return "INTEGER"
	case OctetString:
		return "OCTET STRING"
	case Null:
		return "NULL"
	case ObjectID:
		return "OBJECT IDENTIFIER"
	case IPAddress:
		return "IpAddress"
	case Counter32:
		return "Counter32"
	case Gauge32:
		return "Gauge32"
	case TimeTicks:
		return "TimeTicks"
	case Opaque:
		return "Opaque"
	case Counter64:
		return "Counter64"
	case NoSuchObject:
		return "noSuchObject"
	case NoSuchInstance:
		return "noSuchInstance"
	case EndOfMibView:
		return "endOfMibView"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Var is one variable binding. Exactly one of the value fields is meaningful,
// chosen by Kind: Int for Integer; Uint for Counter32, Gauge32, TimeTicks and
// Counter64; Bytes for OctetString, Opaque and IPAddress (4 bytes); OID for
// ObjectID. OIDs are dotted decimal without a leading dot.
type Var struct {
	Name  string
	Kind  Kind
	Int   int64
	Uint  uint64
	Bytes []byte
	OID   string
}

// Exists reports whether the agent returned a value rather than an exception.
func (v Var) Exists() bool {
	return v.Kind != NoSuchObject && v.Kind != NoSuchInstance && v.Kind != EndOfMibView
}

// Number returns an integer value of any numeric kind.
func (v Var) Number() (int64, bool) {
	switch v.Kind {
	case Integer:
		return v.Int, true
	case Counter32, Gauge32, TimeTicks, Counter64:
		return int64(v.Uint), true
	}
	return 0, false
}

// Text returns the value as a person would read it: octet strings as text
// when they are printable UTF-8 (trailing NULs trimmed), else as hex.
func (v Var) Text() string {
	switch v.Kind {
	case OctetString, Opaque:
		b := trimNUL(v.Bytes)
		if isPrintable(b) {
			return string(b)
		}
		return hex.EncodeToString(v.Bytes)
	case IPAddress:
		if a, ok := netip.AddrFromSlice(v.Bytes); ok {
			return a.String()
		}
		return hex.EncodeToString(v.Bytes)
	case ObjectID:
		return v.OID
	case Integer:
		return strconv.FormatInt(v.Int, 10)
	case Counter32, Gauge32, TimeTicks, Counter64:
		return strconv.FormatUint(v.Uint, 10)
	case Null:
		return ""
	}
	return v.Kind.String()
}

func trimNUL(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}

func isPrintable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' {
			return false
		}
	}
	return true
}

// NormalizeOID strips a leading dot and checks that s is dotted decimal.
// Arcs are returned in canonical form (no leading zeros), so that equal
// OIDs are equal strings, which CompareOID and map keys rely on.
func NormalizeOID(s string) (string, error) {
	s = strings.TrimPrefix(s, ".")
	if s == "" {
		return "", fmt.Errorf("empty OID")
	}
	canonical := true
	parts := strings.Split(s, ".")
	for i, part := range parts {
		if part == "" {
			return "", fmt.Errorf("OID %q: empty arc", clip(s))
		}
		n, err := strconv.ParseUint(part, 10, 32)
		if err != nil {
			return "", fmt.Errorf("OID %q: arc %q is not a number below 2^32", clip(s), clip(part))
		}
		if len(part) > 1 && part[0] == '0' {
			parts[i], canonical = strconv.FormatUint(n, 10), false
		}
	}
	if !canonical {
		return strings.Join(parts, "."), nil
	}
	return s, nil
}

// HasPrefix reports whether oid is root itself or lies under it.
func HasPrefix(oid, root string) bool {
	return oid == root || (strings.HasPrefix(oid, root) && len(oid) > len(root) && oid[len(root)] == '.')
}

// CompareOID orders OIDs numerically arc by arc, as agents do.
func CompareOID(a, b string) int {
	for a != "" || b != "" {
		if a == "" {
			return -1
		}
		if b == "" {
			return 1
		}
		var x, y string
		x, a, _ = strings.Cut(a, ".")
		y, b, _ = strings.Cut(b, ".")
		if len(x) != len(y) {
			if len(x) < len(y) {
				return -1
			}
			return 1
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}
