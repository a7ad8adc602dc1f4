package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseWireshark(t *testing.T) {
	in := "#\n# (last updated 2024-08-23)\n\n0\tReserved\n9\tciscoSystems\n476\tVertiv # formerly 'Emerson Computer Power'\n" +
		"2\tIBM (https://w3.ibm.com/standards )\n7483\tNokia (Formerly 'Alcatel-Lucent')\n"
	names, updated, err := parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint32]string{0: "Reserved", 9: "ciscoSystems", 476: "Vertiv", 2: "IBM", 7483: "Nokia"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	if updated != "2024-08-23" {
		t.Errorf("updated %q", updated)
	}
}

func TestParseIANA(t *testing.T) {
	in := `PRIVATE ENTERPRISE NUMBERS

(last updated 2024-08-23)

Decimal
| Organization
| | Contact
| | | Email
| | | |
0
  Reserved
    Internet Assigned Numbers Authority
      iana&iana.org
9
  ciscoSystems
    Dave Jones
      davej&cisco.com
318
  American Power Conversion Corp.
    Someone
      x&apc.com
`
	names, _, err := parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint32]string{0: "Reserved", 9: "ciscoSystems", 318: "American Power Conversion Corp."}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
}

func TestWriteIsSortedWithAttribution(t *testing.T) {
	var buf bytes.Buffer
	if err := write(&buf, map[uint32]string{318: "APC", 9: "ciscoSystems", 0: "Reserved"}, "2024-08-23"); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(zr)
	got := string(b)
	if !strings.HasPrefix(got, "# IANA Private Enterprise Numbers registry") {
		t.Errorf("no attribution header:\n%s", got)
	}
	if !strings.HasSuffix(got, "9\tciscoSystems\n318\tAPC\n") {
		t.Errorf("entries not sorted or Reserved kept:\n%s", got)
	}
}
