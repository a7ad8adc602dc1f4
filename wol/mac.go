package wol

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// ErrInvalidMAC is matched (errors.Is) by every error ParseMAC returns.
var ErrInvalidMAC = errors.New("invalid MAC address")

// ErrInvalidPassword is matched by every error ParsePassword returns.
var ErrInvalidPassword = errors.New("invalid SecureOn password")

// ParseMAC parses a MAC address written aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff,
// aabb.ccdd.eeff or aabbccddeeff (any case) and checks that it can name
// one network card: multicast (which includes broadcast) and all-zero
// addresses are refused, since a magic packet for them wakes nothing or
// everything. The result is 6 bytes; its String is the normalised form.
func ParseMAC(s string) (net.HardwareAddr, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return nil, fmt.Errorf("%w: empty", ErrInvalidMAC)
	}
	var hw net.HardwareAddr
	if len(in) == 12 && !strings.ContainsAny(in, ":-.") {
		b, err := hex.DecodeString(in)
		if err != nil {
			return nil, fmt.Errorf("%w %q: 12 characters but not all hexadecimal digits", ErrInvalidMAC, s)
		}
		hw = net.HardwareAddr(b)
	} else {
		var err error
		hw, err = net.ParseMAC(in)
		if err != nil {
			return nil, fmt.Errorf("%w %q: want aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff, aabb.ccdd.eeff or aabbccddeeff", ErrInvalidMAC, s)
		}
	}
	if len(hw) != 6 {
		return nil, fmt.Errorf("%w %q: %d bytes, Wake-on-LAN needs a 6-byte Ethernet address", ErrInvalidMAC, s, len(hw))
	}
	return hw, checkMAC(hw)
}

// checkMAC refuses addresses that do not name one card.
func checkMAC(hw net.HardwareAddr) error {
	switch {
	case len(hw) != 6:
		return fmt.Errorf("%w %s: %d bytes, Wake-on-LAN needs a 6-byte Ethernet address", ErrInvalidMAC, hw, len(hw))
	case hw.String() == "ff:ff:ff:ff:ff:ff":
		return fmt.Errorf("%w %s: the broadcast address names no machine", ErrInvalidMAC, hw)
	case hw[0]&1 == 1:
		return fmt.Errorf("%w %s: a multicast address names no single machine", ErrInvalidMAC, hw)
	case hw.String() == "00:00:00:00:00:00":
		return fmt.Errorf("%w %s: the all-zero address names no machine", ErrInvalidMAC, hw)
	}
	return nil
}

// ParseMACs parses every address, stopping at the first bad one, and drops
// duplicates (the same card written two ways is woken once).
func ParseMACs(ss []string) ([]net.HardwareAddr, error) {
	out := make([]net.HardwareAddr, 0, len(ss))
	seen := map[string]bool{}
	for _, s := range ss {
		hw, err := ParseMAC(s)
		if err != nil {
			return nil, err
		}
		if seen[hw.String()] {
			continue
		}
		seen[hw.String()] = true
		out = append(out, hw)
	}
	return out, nil
}

// ParsePassword parses a SecureOn password: 6 bytes written like a MAC
// (aa:bb:cc:dd:ee:ff, with - or no separator), or 4 bytes written as
// hexadecimal (aa:bb:cc:dd, aabbccdd) or dotted decimal (192.168.1.1), as
// ether-wake takes them. The empty string is no password (nil).
func ParsePassword(s string) ([]byte, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return nil, nil
	}
	// Never echo the password itself in an error.
	bad := fmt.Errorf("%w: want 4 or 6 bytes as hexadecimal pairs (11:22:33:44:55:66, 11223344) or 4 dotted decimals (10.20.30.40)", ErrInvalidPassword)
	if strings.Count(in, ".") == 3 {
		a, err := netip.ParseAddr(in)
		if err != nil || !a.Is4() {
			return nil, bad
		}
		b := a.As4()
		return b[:], nil
	}
	var hexs string
	switch {
	case strings.Contains(in, ":"):
		hexs = strings.ReplaceAll(in, ":", "")
		if strings.Count(in, ":") != len(hexs)/2-1 {
			return nil, bad
		}
	case strings.Contains(in, "-"):
		hexs = strings.ReplaceAll(in, "-", "")
		if strings.Count(in, "-") != len(hexs)/2-1 {
			return nil, bad
		}
	default:
		hexs = in
	}
	if len(hexs) != 8 && len(hexs) != 12 {
		return nil, bad
	}
	b, err := hex.DecodeString(hexs)
	if err != nil {
		return nil, bad
	}
	// Separators must sit between pairs: "a:abb:cc:dd" is not a password.
	if strings.ContainsAny(in, ":-") {
		for _, part := range strings.FieldsFunc(in, func(r rune) bool { return r == ':' || r == '-' }) {
			if len(part) != 2 {
				return nil, bad
			}
		}
	}
	return b, nil
}

// FormatPassword writes a password the way ParsePassword reads it back:
// colon-separated hexadecimal pairs.
func FormatPassword(p []byte) string {
	parts := make([]string, len(p))
	for i, b := range p {
		parts[i] = hex.EncodeToString([]byte{b})
	}
	return strings.Join(parts, ":")
}
