package ocs

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/netip"
	"strconv"
)

// The RESPONSE values lanscout sends.
const (
	// Send tells an agent to go on and send its inventory.
	Send = "SEND"
	// Stop tells it to send nothing more this run (it exits 0).
	Stop = "STOP"
	// NoAccountUpdate acknowledges an inventory.
	NoAccountUpdate = "NO_ACCOUNT_UPDATE"
)

// Reply is the server's answer, root <REPLY>.
type Reply struct {
	XMLName  xml.Name `xml:"REPLY"`
	Response string   `xml:"RESPONSE"`
	// PrologFreq is how many hours the agent waits between contacts when
	// it runs as a service; 0 leaves it out.
	PrologFreq int      `xml:"PROLOG_FREQ,omitempty"`
	Options    []Option `xml:"OPTION"`
}

// Option is one <OPTION> of a prolog reply.
type Option struct {
	Name   string  `xml:"NAME"`
	Params []Param `xml:"PARAM"`
}

// Param is an option's <PARAM>: attributes and text.
type Param struct {
	Attrs []xml.Attr `xml:",any,attr"`
	Value string     `xml:",chardata"`
}

// ScanTypeICMP is the SCAN_TYPE_IPDISCOVER real servers send by default.
// Unix agents ignore it (they ARP-sweep); Windows agents read it.
const ScanTypeICMP = "ICMP"

// IPDiscoverOption asks an agent to run its discovery of subnet (named by
// its network address, as OCS servers do) with latency between probes.
// The attributes are not decoration: an agent given a bare
// <PARAM>subnet</PARAM> fails its scan modules and sends no results.
func IPDiscoverOption(subnet netip.Prefix, latencyMS int) Option {
	return Option{Name: "IPDISCOVER", Params: []Param{{
		Attrs: []xml.Attr{
			{Name: xml.Name{Local: "IPDISC_LAT"}, Value: strconv.Itoa(latencyMS)},
			{Name: xml.Name{Local: "SCAN_TYPE_IPDISCOVER"}, Value: ScanTypeICMP},
		},
		Value: subnet.Masked().Addr().String(),
	}}}
}

// xmlHeader is the declaration real servers put first.
const xmlHeader = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

// Marshal renders the reply's XML, declaration first.
func (r Reply) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xmlHeader)
	if err := xml.NewEncoder(&buf).Encode(r); err != nil {
		return nil, fmt.Errorf("encode reply: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}
