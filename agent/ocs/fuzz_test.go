package ocs_test

import (
	"bytes"
	"testing"

	"github.com/lanscout/lanscout/agent/ocs"
)

// fuzzLimits are small so the fuzzer reaches every limit quickly.
var fuzzLimits = ocs.Limits{MaxBody: 64 << 10, MaxXML: 256 << 10, MaxRatio: 50, RatioFloor: 16 << 10}

// FuzzDecodeBytes feeds the decompression path arbitrary bodies: it must
// never panic, never return more than the limits allow, and what it
// returns as zlib or gzip must be what that encoding decodes to.
func FuzzDecodeBytes(f *testing.F) {
	for _, name := range []string{"prolog-request", "inventory-request"} {
		plain := read(f, name+".xml")
		f.Add(plain)
		f.Add(read(f, name+".zlib"))
		f.Add(gzipOf(f, plain))
	}
	f.Add(zlibOf(f, bytes.Repeat([]byte("A"), 1<<20)))
	f.Add([]byte{0x78, 0x9c})
	f.Add([]byte{0x1f, 0x8b, 8, 0})
	f.Fuzz(func(t *testing.T, body []byte) {
		doc, enc, err := ocs.DecodeBytes(body, fuzzLimits)
		if err != nil {
			return
		}
		if int64(len(doc)) > fuzzLimits.MaxXML {
			t.Fatalf("%s body of %d bytes decoded to %d, over MaxXML", enc, len(body), len(doc))
		}
		if enc != ocs.Plain && int64(len(doc)) > max(fuzzLimits.RatioFloor, fuzzLimits.MaxRatio*int64(len(body))) {
			t.Fatalf("%s body of %d bytes decoded to %d, over the ratio", enc, len(body), len(doc))
		}
		again, err := ocs.EncodeBody(doc, enc)
		if err != nil {
			t.Fatal(err)
		}
		back, enc2, err := ocs.DecodeBytes(again, ocs.Limits{})
		if err != nil || enc2 != enc || !bytes.Equal(back, doc) {
			t.Fatalf("re-encoded %s body does not round trip: %v", enc, err)
		}
	})
}

// FuzzParseRequest feeds the XML path arbitrary documents: it must never
// panic, and what it accepts must have a query and, for an inventory,
// raw content that parses again.
func FuzzParseRequest(f *testing.F) {
	f.Add(read(f, "prolog-request.xml"))
	f.Add(read(f, "inventory-request.xml"))
	f.Add([]byte(`<REQUEST><QUERY>INVENTORY</QUERY><CONTENT><IPDISCOVER><H><I>10.0.0.1</I><M>00:11:22:33:44:55</M><N>-</N></H></IPDISCOVER></CONTENT></REQUEST>`))
	f.Add([]byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><REQUEST><QUERY>PROLOG</QUERY><DEVICEID>\xe9-2020-01-01-00-00-00</DEVICEID></REQUEST>"))
	f.Add([]byte(`<REQUEST><QUERY>X</QUERY><CONTENT><A><![CDATA[<B>]]></A><!-- c --></CONTENT></REQUEST>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		req, err := ocs.ParseRequest(doc)
		if err != nil {
			return
		}
		if req.Query == "" {
			t.Fatal("accepted a request without a query")
		}
		if req.Content == nil {
			return
		}
		for _, n := range req.Content.Networks {
			n.Prefix()
		}
		for _, h := range req.Content.IPDiscover {
			h.Host()
		}
		if _, err := ocs.ParseRequest([]byte("<REQUEST><QUERY>Q</QUERY>" + req.Content.Raw + "</REQUEST>")); err != nil {
			t.Fatalf("raw content %q does not parse again: %v", req.Content.Raw, err)
		}
	})
}
