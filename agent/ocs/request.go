package ocs

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"unicode/utf8"
)

// The queries agents send. Others exist (DOWNLOAD, SNMP, UPDATE...); they
// parse as well and carry their QUERY as sent.
const (
	QueryProlog    = "PROLOG"
	QueryInventory = "INVENTORY"
)

// MaxSections caps the sections of one CONTENT (software entries count one
// each): far more than any real machine, few enough to bound the work.
const MaxSections = 200_000

// Request is one message from an agent.
type Request struct {
	DeviceID string
	// Query is upper-cased: PROLOG, INVENTORY, or another the server may
	// not handle.
	Query string
	// Content is the INVENTORY's CONTENT; nil when the request has none.
	Content *Content
}

// Content is what an inventory says about the machine.
type Content struct {
	Hardware Hardware
	BIOS     BIOS
	Networks []Network
	// IPDiscover holds the hosts the agent's own discovery found, when it
	// was asked to scan; HasIPDiscover says whether the section was there
	// at all (an elected agent that could not scan sends none).
	IPDiscover    []DiscoveredHost
	HasIPDiscover bool
	// Raw is every section but IPDISCOVER, verbatim, inside <CONTENT>: the
	// software list, drives, users and the rest, kept for later.
	Raw string
}

// Hardware is the HARDWARE section's fields lanscout reads.
type Hardware struct {
	Name           string `xml:"NAME"`
	OSName         string `xml:"OSNAME"`
	OSVersion      string `xml:"OSVERSION"`
	OSComments     string `xml:"OSCOMMENTS"`
	UUID           string `xml:"UUID"`
	IPAddr         string `xml:"IPADDR"`
	DefaultGateway string `xml:"DEFAULTGATEWAY"`
	Workgroup      string `xml:"WORKGROUP"`
	Arch           string `xml:"ARCH"`
	ProcessorType  string `xml:"PROCESSORT"`
	Memory         string `xml:"MEMORY"`
}

// BIOS is the BIOS section's fields lanscout reads: S* describe the
// system, M* the motherboard, B* the firmware.
type BIOS struct {
	SManufacturer string `xml:"SMANUFACTURER"`
	SModel        string `xml:"SMODEL"`
	SSN           string `xml:"SSN"`
	MManufacturer string `xml:"MMANUFACTURER"`
	MModel        string `xml:"MMODEL"`
	MSN           string `xml:"MSN"`
	BManufacturer string `xml:"BMANUFACTURER"`
	BVersion      string `xml:"BVERSION"`
	AssetTag      string `xml:"ASSETTAG"`
}

// Network is one NETWORKS section: one address of one interface (agents
// send an interface once per address).
type Network struct {
	Description string `xml:"DESCRIPTION"`
	Type        string `xml:"TYPE"`
	TypeMIB     string `xml:"TYPEMIB"`
	Speed       string `xml:"SPEED"`
	MACAddr     string `xml:"MACADDR"`
	Status      string `xml:"STATUS"`
	IPAddress   string `xml:"IPADDRESS"`
	IPMask      string `xml:"IPMASK"`
	IPGateway   string `xml:"IPGATEWAY"`
	IPSubnet    string `xml:"IPSUBNET"`
	IPDHCP      string `xml:"IPDHCP"`
	VirtualDev  string `xml:"VIRTUALDEV"`
}

// Prefix returns the interface address with the prefix length its mask
// gives (IPv4 dotted masks and IPv6 masks alike), and false when the
// address is missing or either does not parse.
func (n Network) Prefix() (netip.Prefix, bool) {
	addr, err := netip.ParseAddr(strings.TrimSpace(n.IPAddress))
	if err != nil {
		return netip.Prefix{}, false
	}
	addr = addr.Unmap()
	bits, ok := maskBits(strings.TrimSpace(n.IPMask), addr.BitLen())
	if !ok {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(addr, bits), true
}

// maskBits reads a netmask written as an address ("255.255.255.0",
// "ffff:ffff::") or as a length ("24"); only contiguous masks count.
func maskBits(mask string, bitLen int) (int, bool) {
	if mask == "" {
		return 0, false
	}
	var n int
	if _, err := fmt.Sscanf(mask, "%d", &n); err == nil && fmt.Sprint(n) == mask {
		return n, n >= 0 && n <= bitLen
	}
	m, err := netip.ParseAddr(mask)
	if err != nil || m.Unmap().BitLen() != bitLen {
		return 0, false
	}
	ones, size := net.IPMask(m.Unmap().AsSlice()).Size()
	if size == 0 {
		return 0, false // not contiguous
	}
	return ones, true
}

// DiscoveredHost is one <H> of an IPDISCOVER section.
type DiscoveredHost struct {
	IP   string `xml:"I"`
	MAC  string `xml:"M"`
	Name string `xml:"N"` // "-" when the agent found none
}

// Host returns the entry's address, MAC (lower case) and name ("" for the
// agents' "-"), or an error saying what is wrong with it.
func (h DiscoveredHost) Host() (netip.Addr, net.HardwareAddr, string, error) {
	ip, err := netip.ParseAddr(strings.TrimSpace(h.IP))
	if err != nil {
		return netip.Addr{}, nil, "", fmt.Errorf("address %q: %w", h.IP, err)
	}
	mac, err := net.ParseMAC(strings.TrimSpace(h.MAC))
	if err != nil || len(mac) != 6 {
		return netip.Addr{}, nil, "", fmt.Errorf("MAC %q of %s is not an Ethernet address", h.MAC, ip)
	}
	// Incomplete ARP entries come back as zeros, and a broadcast MAC is
	// nobody's: neither may become a device's identity.
	if bytes.Equal(mac, make(net.HardwareAddr, 6)) || bytes.Equal(mac, net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) {
		return netip.Addr{}, nil, "", fmt.Errorf("MAC %s of %s is no device's", mac, ip)
	}
	name := strings.TrimSpace(h.Name)
	if name == "-" {
		name = ""
	}
	return ip.Unmap(), mac, name, nil
}

// ParseRequest decodes a request's XML. It refuses anything whose root is
// not REQUEST, that is not well-formed XML, or that has no QUERY.
func ParseRequest(doc []byte) (*Request, error) {
	d := newDecoder(doc)
	root, err := firstElement(d)
	if err != nil {
		return nil, err
	}
	if root.Name.Local != "REQUEST" {
		return nil, fmt.Errorf("%w: root element <%s>, want <REQUEST>", ErrMalformed, root.Name.Local)
	}
	req := &Request{}
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "DEVICEID":
				if req.DeviceID, err = text(d, t); err != nil {
					return nil, err
				}
			case "QUERY":
				q, err := text(d, t)
				if err != nil {
					return nil, err
				}
				req.Query = strings.ToUpper(strings.TrimSpace(q))
			case "CONTENT":
				if req.Content != nil {
					return nil, fmt.Errorf("%w: two <CONTENT> sections", ErrMalformed)
				}
				if req.Content, err = parseContent(d, t); err != nil {
					return nil, err
				}
			default:
				if err := d.Skip(); err != nil {
					return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
				}
			}
		case xml.EndElement:
			// The root closed: nothing but comments and space may follow.
			if err := trailer(d); err != nil {
				return nil, err
			}
			req.DeviceID = strings.TrimSpace(req.DeviceID)
			if req.Query == "" {
				return nil, fmt.Errorf("%w: no <QUERY>", ErrMalformed)
			}
			return req, nil
		}
	}
}

func newDecoder(doc []byte) *xml.Decoder {
	// Agents put whatever the machine holds in software names and the
	// like; a stray invalid byte must not cost the whole inventory.
	if !utf8.Valid(doc) {
		if declaresLatin1(doc) {
			doc = latin1ToUTF8(doc)
		} else {
			doc = bytes.ToValidUTF8(doc, []byte("\uFFFD"))
		}
	}
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	d.CharsetReader = charsetReader
	return d
}

// declaresLatin1 reports whether the XML declaration names a single-byte
// Western encoding.
func declaresLatin1(doc []byte) bool {
	head := bytes.ToLower(doc[:min(len(doc), 100)])
	end := bytes.Index(head, []byte("?>"))
	if !bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n"), []byte("<?xml")) || end < 0 {
		return false
	}
	for _, l := range []string{"iso-8859-1", "latin1", "latin-1", "windows-1252", "cp1252"} {
		if bytes.Contains(head[:end], []byte(l)) {
			return true
		}
	}
	return false
}

// latin1ToUTF8 maps each byte to the rune of the same number.
func latin1ToUTF8(doc []byte) []byte {
	out := make([]byte, 0, len(doc)+len(doc)/8)
	for _, b := range doc {
		out = utf8.AppendRune(out, rune(b))
	}
	return out
}

// charsetReader accepts the declarations agents write. The document is
// already UTF-8 (newDecoder converted a Latin-1 one), and a Latin-1
// declaration on UTF-8 text, a common agent bug, reads as UTF-8.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin1", "latin-1", "windows-1252", "cp1252":
		return in, nil
	}
	return nil, fmt.Errorf("%w: unsupported encoding %q", ErrMalformed, label)
}

func firstElement(d *xml.Decoder) (xml.StartElement, error) {
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return xml.StartElement{}, fmt.Errorf("%w: no root element", ErrMalformed)
		}
		if err != nil {
			return xml.StartElement{}, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return xml.StartElement{}, fmt.Errorf("%w: text before the root element", ErrMalformed)
			}
		}
	}
}

func trailer(d *xml.Decoder) error {
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return fmt.Errorf("%w: a second root element <%s>", ErrMalformed, t.Name.Local)
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return fmt.Errorf("%w: text after the root element", ErrMalformed)
			}
		}
	}
}

// text reads an element that holds only text.
func text(d *xml.Decoder, start xml.StartElement) (string, error) {
	var s string
	if err := d.DecodeElement(&s, &start); err != nil {
		return "", fmt.Errorf("%w: <%s>: %v", ErrMalformed, start.Name.Local, err)
	}
	return s, nil
}

// rawSection captures a section verbatim.
type rawSection struct {
	Inner []byte `xml:",innerxml"`
}

type ipDiscoverSection struct {
	Hosts []DiscoveredHost `xml:"H"`
}

func parseContent(d *xml.Decoder, start xml.StartElement) (*Content, error) {
	c := &Content{}
	var raw strings.Builder
	raw.WriteString("<CONTENT>")
	sections := 0
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: <CONTENT>: %v", ErrMalformed, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if sections++; sections > MaxSections {
				return nil, fmt.Errorf("%w: more than %d sections in <CONTENT>", ErrTooLarge, MaxSections)
			}
			name := t.Name.Local
			if name == "IPDISCOVER" {
				var s ipDiscoverSection
				if err := d.DecodeElement(&s, &t); err != nil {
					return nil, fmt.Errorf("%w: <IPDISCOVER>: %v", ErrMalformed, err)
				}
				c.HasIPDiscover = true
				c.IPDiscover = append(c.IPDiscover, s.Hosts...)
				continue
			}
			// One pass per section: the modelled ones decode their fields
			// and capture their inner XML together.
			var inner []byte
			switch name {
			case "HARDWARE":
				var sec struct {
					Hardware
					Inner []byte `xml:",innerxml"`
				}
				err = d.DecodeElement(&sec, &t)
				c.Hardware, inner = sec.Hardware, sec.Inner
			case "BIOS":
				var sec struct {
					BIOS
					Inner []byte `xml:",innerxml"`
				}
				err = d.DecodeElement(&sec, &t)
				c.BIOS, inner = sec.BIOS, sec.Inner
			case "NETWORKS":
				var sec struct {
					Network
					Inner []byte `xml:",innerxml"`
				}
				err = d.DecodeElement(&sec, &t)
				c.Networks, inner = append(c.Networks, sec.Network), sec.Inner
			default:
				var rs rawSection
				err = d.DecodeElement(&rs, &t)
				inner = rs.Inner
			}
			if err != nil {
				return nil, fmt.Errorf("%w: <%s>: %v", ErrMalformed, name, err)
			}
			raw.WriteString("<" + name + ">")
			raw.Write(inner)
			raw.WriteString("</" + name + ">")
		case xml.EndElement:
			raw.WriteString("</CONTENT>")
			c.Raw = raw.String()
			return c, nil
		}
	}
}
