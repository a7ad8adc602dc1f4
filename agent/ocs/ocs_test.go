package ocs_test

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"errors"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/agent/ocs"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

func zlibOf(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipOf(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestRequestsGolden decodes the requests captured from the real agent,
// in every encoding, and compares what was understood with golden JSON.
func TestRequestsGolden(t *testing.T) {
	for _, name := range []string{"prolog-request", "inventory-request"} {
		plain := read(t, name+".xml")
		// The .zlib files were made by Perl's Compress::Zlib::compress,
		// the very call the Unix agent makes.
		bodies := map[string][]byte{
			"zlib-perl": read(t, name+".zlib"),
			"zlib-go":   zlibOf(t, plain),
			"gzip":      gzipOf(t, plain),
			"plain":     plain,
		}
		var first []byte
		for enc, body := range bodies {
			t.Run(name+"/"+enc, func(t *testing.T) {
				doc, gotEnc, err := ocs.DecodeBytes(body, ocs.Limits{})
				if err != nil {
					t.Fatal(err)
				}
				if wantEnc := strings.TrimSuffix(strings.TrimSuffix(enc, "-perl"), "-go"); gotEnc.String() != wantEnc {
					t.Errorf("encoding %s, want %s", gotEnc, wantEnc)
				}
				if !bytes.Equal(doc, plain) {
					t.Fatalf("decoded body differs from the XML")
				}
				req, err := ocs.ParseRequest(doc)
				if err != nil {
					t.Fatal(err)
				}
				got, err := json.MarshalIndent(req, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, '\n')
				if first == nil {
					first = got
					golden(t, name+".golden.json", got)
				} else if !bytes.Equal(got, first) {
					t.Errorf("%s decodes differently from the other encodings", enc)
				}
			})
		}
	}
}

// TestInventoryFacts checks, beside the golden file, the facts the server
// relies on in the captured inventory.
func TestInventoryFacts(t *testing.T) {
	req, err := ocs.ParseRequest(read(t, "inventory-request.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if req.Query != ocs.QueryInventory || req.DeviceID != "ocsp-agent-2026-11-22-02-31-32" {
		t.Fatalf("query %q device %q", req.Query, req.DeviceID)
	}
	c := req.Content
	if c.Hardware.Name != "ocsp-agent" || c.Hardware.OSName != "Debian GNU/Linux 12" {
		t.Errorf("hardware %+v", c.Hardware)
	}
	if len(c.Networks) != 2 {
		t.Fatalf("%d networks, want 2", len(c.Networks))
	}
	p, ok := c.Networks[0].Prefix()
	if !ok || p != netip.MustParsePrefix("10.88.1.10/24") {
		t.Errorf("first network prefix %v %v", p, ok)
	}
	p, ok = c.Networks[1].Prefix()
	if !ok || p != netip.MustParsePrefix("fe80::88:1ff:fe00:a/64") {
		t.Errorf("second network prefix %v %v", p, ok)
	}
	if !c.HasIPDiscover || len(c.IPDiscover) != 11 {
		t.Fatalf("ipdiscover %v %d hosts, want 11", c.HasIPDiscover, len(c.IPDiscover))
	}
	ip, mac, name, err := c.IPDiscover[1].Host()
	if err != nil || ip.String() != "10.88.1.101" || mac.String() != "02:88:01:00:01:65" || name != "labhost01" {
		t.Errorf("host 1: %v %v %q %v", ip, mac, name, err)
	}
	// Every section but IPDISCOVER is kept, verbatim and well-formed.
	for _, s := range []string{"<CPUS>", "<STORAGES>", "<BIOS>", "<HARDWARE>", "<NETWORKS>", "<NAME>vda</NAME>"} {
		if !strings.Contains(c.Raw, s) {
			t.Errorf("raw content lacks %s", s)
		}
	}
	if strings.Contains(c.Raw, "IPDISCOVER") {
		t.Error("raw content keeps IPDISCOVER")
	}
	if _, err := ocs.ParseRequest([]byte("<REQUEST><QUERY>X</QUERY>" + c.Raw + "</REQUEST>")); err != nil {
		t.Errorf("raw content does not parse again: %v", err)
	}
}

// TestRepliesGolden renders the replies the server sends and checks them
// byte for byte, in every encoding.
func TestRepliesGolden(t *testing.T) {
	cases := []struct {
		name  string
		reply ocs.Reply
	}{
		{"prolog-reply-send.golden.xml", ocs.Reply{Response: ocs.Send, PrologFreq: 24}},
		{"prolog-reply-elected.golden.xml", ocs.Reply{Response: ocs.Send, PrologFreq: 24,
			Options: []ocs.Option{ocs.IPDiscoverOption(netip.MustParsePrefix("10.88.1.0/24"), 100)}}},
		{"prolog-reply-stop.golden.xml", ocs.Reply{Response: ocs.Stop}},
		// The captured reply the real agent accepted, byte for byte.
		{"inventory-reply.xml", ocs.Reply{Response: ocs.NoAccountUpdate}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc, err := c.reply.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			golden(t, c.name, doc)
			for _, enc := range []ocs.Encoding{ocs.Plain, ocs.Zlib, ocs.Gzip} {
				body, err := ocs.EncodeBody(doc, enc)
				if err != nil {
					t.Fatal(err)
				}
				back, gotEnc, err := ocs.DecodeBytes(body, ocs.Limits{})
				if err != nil || gotEnc != enc || !bytes.Equal(back, doc) {
					t.Errorf("%s: round trip gave %s %v", enc, gotEnc, err)
				}
			}
		})
	}
}

// TestElectedReplyMatchesCapture: the reply the real agent scanned on
// differs from ours only in SCAN_TYPE_IPDISCOVER, which it does not read.
func TestElectedReplyMatchesCapture(t *testing.T) {
	doc, err := ocs.Reply{Response: ocs.Send, PrologFreq: 24,
		Options: []ocs.Option{ocs.IPDiscoverOption(netip.MustParsePrefix("10.88.1.0/24"), 100)}}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	captured := strings.Replace(string(read(t, "prolog-reply.xml")), `"NMAP"`, `"ICMP"`, 1)
	if string(doc) != captured {
		t.Errorf("got\n%s\nwant\n%s", doc, captured)
	}
}

func TestDecodeRefuses(t *testing.T) {
	small := ocs.Limits{MaxBody: 4096, MaxXML: 64 << 10, MaxRatio: 20, RatioFloor: 8 << 10}
	bomb := zlibOf(t, bytes.Repeat([]byte(" "), 60<<10))           // 60 KiB of spaces in ~100 bytes
	huge := zlibOf(t, bytes.Repeat([]byte("<A>x</A>"), 100<<10/8)) // inflates past MaxXML
	valid := zlibOf(t, read(t, "prolog-request.xml"))
	cases := []struct {
		name string
		body []byte
		want error
		lim  *ocs.Limits
	}{
		{"empty", nil, ocs.ErrMalformed, nil},
		{"garbage", []byte("hello world"), ocs.ErrMalformed, nil},
		{"json", []byte(`{"query":"PROLOG"}`), ocs.ErrMalformed, nil},
		{"truncated zlib", valid[:len(valid)/2], ocs.ErrMalformed, nil},
		{"bad checksum", append(append([]byte{}, valid[:len(valid)-1]...), valid[len(valid)-1]^0xff), ocs.ErrMalformed, nil},
		{"trailing data", append(append([]byte{}, valid...), "junk"...), ocs.ErrMalformed, nil},
		{"truncated gzip", gzipOf(t, read(t, "prolog-request.xml"))[:20], ocs.ErrMalformed, nil},
		{"over MaxBody", append([]byte("<REQUEST>"), bytes.Repeat([]byte(" "), 5000)...), ocs.ErrTooLarge, nil},
		{"bomb", bomb, ocs.ErrBomb, nil},
		{"gzip bomb", gzipOf(t, bytes.Repeat([]byte(" "), 60<<10)), ocs.ErrBomb, nil},
		{"inflates past MaxXML", huge, ocs.ErrTooLarge, &ocs.Limits{MaxBody: 4096, MaxXML: 64 << 10, MaxRatio: 10000}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lim := small
			if c.lim != nil {
				lim = *c.lim
			}
			_, _, err := ocs.DecodeBytes(c.body, lim)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			_, _, err = ocs.DecodeBody(bytes.NewReader(c.body), lim)
			if !errors.Is(err, c.want) {
				t.Fatalf("DecodeBody: got %v, want %v", err, c.want)
			}
		})
	}
	if len(bomb) > 4096 || len(huge) > 4096 {
		t.Fatalf("test bodies too big to test the inflation limits: %d %d", len(bomb), len(huge))
	}
}

func TestParseRequestRefuses(t *testing.T) {
	cases := map[string]string{
		"not xml":          "PROLOG",
		"wrong root":       "<REPLY><QUERY>PROLOG</QUERY></REPLY>",
		"no query":         "<REQUEST><DEVICEID>a-2020-01-01-00-00-00</DEVICEID></REQUEST>",
		"unclosed":         "<REQUEST><QUERY>PROLOG</QUERY>",
		"mismatched":       "<REQUEST><QUERY>PROLOG</DEVICEID></REQUEST>",
		"two roots":        "<REQUEST><QUERY>PROLOG</QUERY></REQUEST><REQUEST/>",
		"two contents":     "<REQUEST><QUERY>INVENTORY</QUERY><CONTENT/><CONTENT/></REQUEST>",
		"element in query": "<REQUEST><QUERY><X/></QUERY></REQUEST>",
		"bad entity":       "<REQUEST><QUERY>&bogus;</QUERY></REQUEST>",
		"unknown charset":  `<?xml version="1.0" encoding="EBCDIC"?><REQUEST><QUERY>PROLOG</QUERY></REQUEST>`,
		"text after":       "<REQUEST><QUERY>PROLOG</QUERY></REQUEST>trailing",
		"unclosed section": "<REQUEST><QUERY>INVENTORY</QUERY><CONTENT><HARDWARE><NAME></HARDWARE></CONTENT></REQUEST>",
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			if req, err := ocs.ParseRequest([]byte(doc)); err == nil {
				t.Fatalf("accepted: %+v", req)
			}
		})
	}
}

func TestParseRequestEncodings(t *testing.T) {
	// A Latin-1 document keeps its accents; a stray invalid byte in a
	// UTF-8 one costs that character only.
	latin1 := []byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><REQUEST><QUERY>INVENTORY</QUERY>" +
		"<CONTENT><HARDWARE><NAME>caf\xe9</NAME></HARDWARE></CONTENT><DEVICEID>caf-2020-01-01-00-00-00</DEVICEID></REQUEST>")
	req, err := ocs.ParseRequest(latin1)
	if err != nil {
		t.Fatal(err)
	}
	if req.Content.Hardware.Name != "café" {
		t.Errorf("latin-1 name %q", req.Content.Hardware.Name)
	}
	broken := []byte("<REQUEST><QUERY>INVENTORY</QUERY><CONTENT><HARDWARE><NAME>a\xffb</NAME></HARDWARE></CONTENT></REQUEST>")
	req, err = ocs.ParseRequest(broken)
	if err != nil {
		t.Fatal(err)
	}
	if req.Content.Hardware.Name != "a\uFFFDb" {
		t.Errorf("broken name %q", req.Content.Hardware.Name)
	}
}

func TestParseDeviceID(t *testing.T) {
	cases := []struct {
		id   string
		host string
		ok   bool
	}{
		{"ocsp-agent-2026-11-22-02-31-32", "ocsp-agent", true},
		{"DESKTOP-PMOIBHH-2018-06-01-16-31-07", "DESKTOP-PMOIBHH", true},
		{"a-2020-02-29-23-59-59", "a", true},
		{"a-2021-02-29-00-00-00", "", false}, // no such day
		{"a-2020-01-01-24-00-00", "", false},
		{"2020-01-01-00-00-00", "", false},
		{"-2020-01-01-00-00-00", "", false},
		{"host", "", false},
		{"", "", false},
		{"my host-2020-01-01-00-00-00", "", false},
		{"<x>-2020-01-01-00-00-00", "", false},
		{"host-2020-01-01-00-00", "", false},
		{strings.Repeat("h", 240) + "-2020-01-01-00-00-00", "", false},
	}
	for _, c := range cases {
		host, made, err := ocs.ParseDeviceID(c.id)
		if (err == nil) != c.ok || host != c.host {
			t.Errorf("%q: host %q err %v, want host %q ok %v", c.id, host, err, c.host, c.ok)
		}
		if c.ok && made.IsZero() {
			t.Errorf("%q: no time", c.id)
		}
	}
	_, made, _ := ocs.ParseDeviceID("ocsp-agent-2026-11-22-02-31-32")
	if !made.Equal(time.Date(2026, 11, 22, 2, 31, 32, 0, time.UTC)) {
		t.Errorf("time %v", made)
	}
}

func TestParseUserAgent(t *testing.T) {
	cases := []struct {
		ua      string
		family  ocs.AgentFamily
		version string
	}{
		{"OCS-NG_unified_unix_agent_v2.10.0", ocs.UnixAgent, "2.10.0"},
		{"OCS-NG_WINDOWS_AGENT_v2.11.0.1", ocs.WindowsAgent, "2.11.0.1"},
		{"OCS-NG_Android_agent_v2.5", ocs.AndroidAgent, "2.5"},
		{"OCS-NG_windows_client_v4061", ocs.WindowsClient, "4061"},
		{"OCS-NG_unified_unix_agent_v", "", ""},
		{"OCS-NG_unified_unix_agent", "", ""},
		{"curl/8.0", "", ""},
		{"Mozilla/5.0", "", ""},
		{"OCS-NG_unified_unix_agent_vX<script>", "", ""},
		{"ocs-ng_unified_unix_agent_v2.10.0", "", ""},
		{"", "", ""},
	}
	for _, c := range cases {
		ua, err := ocs.ParseUserAgent(c.ua)
		if ua.Family != c.family || ua.Version != c.version || (err == nil) != (c.family != "") {
			t.Errorf("%q: %+v %v, want %s %s", c.ua, ua, err, c.family, c.version)
		}
	}
}

func TestNetworkPrefix(t *testing.T) {
	cases := []struct {
		addr, mask, want string
	}{
		{"192.168.1.5", "255.255.255.0", "192.168.1.5/24"},
		{"10.0.0.1", "255.255.0.0", "10.0.0.1/16"},
		{"10.0.0.1", "24", "10.0.0.1/24"},
		{"10.0.0.1", "255.0.255.0", ""}, // not contiguous
		{"10.0.0.1", "", ""},
		{"", "255.255.255.0", ""},
		{"fe80::1", "ffff:ffff:ffff:ffff::", "fe80::1/64"},
		{"fe80::1", "255.255.255.0", ""},
		{"::ffff:10.0.0.1", "255.255.255.0", "10.0.0.1/24"},
	}
	for _, c := range cases {
		p, ok := ocs.Network{IPAddress: c.addr, IPMask: c.mask}.Prefix()
		got := ""
		if ok {
			got = p.String()
		}
		if got != c.want {
			t.Errorf("%s %s: %q, want %q", c.addr, c.mask, got, c.want)
		}
	}
}

func TestDiscoveredHost(t *testing.T) {
	cases := []struct {
		h    ocs.DiscoveredHost
		ok   bool
		name string
	}{
		{ocs.DiscoveredHost{IP: "10.0.0.1", MAC: "00:11:22:33:44:55", Name: "gw"}, true, "gw"},
		{ocs.DiscoveredHost{IP: "10.0.0.1", MAC: "00:11:22:33:44:AA", Name: "-"}, true, ""},
		{ocs.DiscoveredHost{IP: "10.0.0.1", MAC: "00-11-22-33-44-55"}, true, ""},
		{ocs.DiscoveredHost{IP: "10.0.0", MAC: "00:11:22:33:44:55"}, false, ""},
		{ocs.DiscoveredHost{IP: "10.0.0.1", MAC: "nope"}, false, ""},
		{ocs.DiscoveredHost{IP: "10.0.0.1", MAC: "00:11:22:33:44:55:66:77"}, false, ""},
		{ocs.DiscoveredHost{IP: "10.0.0.1", MAC: "00:00:00:00:00:00"}, false, ""},
		{ocs.DiscoveredHost{IP: "10.0.0.1", MAC: "FF:FF:FF:FF:FF:FF"}, false, ""},
	}
	for _, c := range cases {
		_, mac, name, err := c.h.Host()
		if (err == nil) != c.ok || name != c.name {
			t.Errorf("%+v: %v %q %v", c.h, mac, name, err)
		}
		if err == nil && mac.String() != strings.ToLower(strings.ReplaceAll(c.h.MAC, "-", ":")) {
			t.Errorf("%+v: mac %v", c.h, mac)
		}
	}
}
