package oui_test

import (
	"net"
	"slices"
	"testing"

	"github.com/lanscout/lanscout/discover/oui"
)

func mac(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

// Known assignments from the ieee-data CSVs the table is built from.
func TestLookup(t *testing.T) {
	cases := []struct {
		mac, want string
	}{
		{"00:00:0c:12:34:56", "Cisco Systems, Inc"},                // MA-L
		{"3c:5a:b4:00:00:01", "Google, Inc."},                      // MA-L, quoted in the CSV
		{"20:85:93:b0:00:01", "IOG Products LLC"},                  // MA-M 20:85:93:B
		{"70:b3:d5:f2:f0:01", "TELEPLATFORMS"},                     // MA-S 70:B3:D5:F2:F
		{"70:b3:d5:f3:f1:23", "comtac AG"},                         // MA-S next door
		{"00:50:c2:7d:50:01", "DEUTA-WERKE GmbH"},                  // IAB 00:50:C2:7D:5
		{"00:50:c2:7d:60:01", "International Mining Technologies"}, // IAB
		{"70:b3:d5:00:00:01", "IEEE Registration Authority"},       // MA-L holder: 70:B3:D5:00:0 is not assigned as MA-S
		{"02:00:0c:12:34:56", ""},                                  // locally administered
		{"01:00:0c:cc:cc:cc", ""},                                  // group address
	}
	for _, tc := range cases {
		if got := oui.Lookup(mac(tc.mac)); got != tc.want {
			t.Errorf("Lookup(%s) = %q, want %q", tc.mac, got, tc.want)
		}
	}
}

func TestLookupShort(t *testing.T) {
	if got := oui.Lookup(nil); got != "" {
		t.Errorf("Lookup(nil) = %q", got)
	}
	if got := oui.Lookup(net.HardwareAddr{0, 0, 0x0c}); got != "Cisco Systems, Inc" {
		t.Errorf("Lookup(00:00:0c) = %q, want the MA-L holder", got)
	}
}

func TestFlags(t *testing.T) {
	cases := []struct {
		mac  string
		want []string
	}{
		{"00:00:0c:12:34:56", nil},
		{"01:00:5e:00:00:01", []string{"multicast"}},
		{"03:00:00:00:00:01", []string{"multicast", "locally-administered"}},
		{"da:a1:19:5e:33:07", []string{"locally-administered", "randomized"}}, // a phone's private Wi-Fi address
		{"7a:91:2c:00:11:22", []string{"locally-administered", "randomized"}},
		{"02:42:ac:11:00:02", []string{"locally-administered"}}, // Docker
		{"52:54:00:12:34:56", []string{"locally-administered"}}, // QEMU/KVM
		{"0a:00:27:00:00:00", []string{"locally-administered"}}, // VirtualBox
	}
	for _, tc := range cases {
		if got := oui.Flags(mac(tc.mac)); !slices.Equal(got, tc.want) {
			t.Errorf("Flags(%s) = %q, want %q", tc.mac, got, tc.want)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	m := mac("70:b3:d5:f2:f0:01")
	oui.Lookup(m)
	for b.Loop() {
		oui.Lookup(m)
	}
}
