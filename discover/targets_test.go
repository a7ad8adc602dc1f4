package discover_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lanscout/lanscout/discover"
)

func a(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestParseTargets(t *testing.T) {
	cases := []struct {
		name   string
		tokens []string
		want   []discover.Target
		err    string
	}{
		{name: "cidr", tokens: []string{"10.0.0.0/24"},
			want: []discover.Target{{Token: "10.0.0.0/24", Prefix: netip.MustParsePrefix("10.0.0.0/24"), First: a("10.0.0.0"), Last: a("10.0.0.255")}}},
		{name: "cidr host bits masked", tokens: []string{"10.0.0.77/30"},
			want: []discover.Target{{Token: "10.0.0.77/30", Prefix: netip.MustParsePrefix("10.0.0.76/30"), First: a("10.0.0.76"), Last: a("10.0.0.79")}}},
		{name: "/32", tokens: []string{"192.168.1.1/32"},
			want: []discover.Target{{Token: "192.168.1.1/32", Prefix: netip.MustParsePrefix("192.168.1.1/32"), First: a("192.168.1.1"), Last: a("192.168.1.1")}}},
		{name: "single", tokens: []string{" 172.16.0.9 "},
			want: []discover.Target{{Token: "172.16.0.9", First: a("172.16.0.9"), Last: a("172.16.0.9")}}},
		{name: "range", tokens: []string{"10.0.0.10-10.0.1.50"},
			want: []discover.Target{{Token: "10.0.0.10-10.0.1.50", First: a("10.0.0.10"), Last: a("10.0.1.50")}}},
		{name: "short range", tokens: []string{"10.0.0.10-50"},
			want: []discover.Target{{Token: "10.0.0.10-50", First: a("10.0.0.10"), Last: a("10.0.0.50")}}},
		{name: "comma separated and several tokens", tokens: []string{"10.0.0.1,10.0.0.3", "10.0.1.0/31"},
			want: []discover.Target{
				{Token: "10.0.0.1", First: a("10.0.0.1"), Last: a("10.0.0.1")},
				{Token: "10.0.0.3", First: a("10.0.0.3"), Last: a("10.0.0.3")},
				{Token: "10.0.1.0/31", Prefix: netip.MustParsePrefix("10.0.1.0/31"), First: a("10.0.1.0"), Last: a("10.0.1.1")},
			}},
		{name: "bad octet", tokens: []string{"10.0.0.300/24"}, err: `bad target "10.0.0.300/24": "10.0.0.300" is not an IPv4 address`},
		{name: "bad prefix length", tokens: []string{"10.0.0.0/33"}, err: `bad target "10.0.0.0/33": prefix length "33" is not 0-32`},
		{name: "ipv6 cidr", tokens: []string{"2001:db8::/64"}, err: `bad target "2001:db8::/64": IPv6 targets are not supported yet`},
		{name: "ipv6 address", tokens: []string{"fe80::1"}, err: `bad target "fe80::1": IPv6 targets are not supported yet`},
		{name: "reversed range", tokens: []string{"10.0.0.50-10"}, err: `bad target "10.0.0.50-10": range end 10.0.0.10 is before its start 10.0.0.50`},
		{name: "short range overflow", tokens: []string{"10.0.0.1-256"}, err: `bad target "10.0.0.1-256": range end "256" is not an address or a last octet (0-255)`},
		{name: "hostname", tokens: []string{"printer.lan"}, err: `bad target "printer.lan": "printer.lan" is not an IPv4 address, CIDR or range`},
		{name: "second token bad", tokens: []string{"10.0.0.1", "10.0.0.1/x"}, err: `bad target "10.0.0.1/x": prefix length "x" is not 0-32`},
		{name: "empty", tokens: []string{" , "}, err: "no targets given"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := discover.ParseTargets(tc.tokens)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(x, y netip.Addr) bool { return x == y }),
				cmp.Comparer(func(x, y netip.Prefix) bool { return x == y })); diff != "" {
				t.Errorf("ParseTargets(%q) (-want +got):\n%s", tc.tokens, diff)
			}
		})
	}
}

func TestCountAddresses(t *testing.T) {
	cases := []struct {
		tokens []string
		want   uint64
	}{
		{[]string{"10.0.0.0/24"}, 256},
		{[]string{"10.0.0.0/24", "10.0.0.0/25"}, 256},                       // contained
		{[]string{"10.0.0.0/25", "10.0.0.128/25"}, 256},                     // adjacent
		{[]string{"10.0.0.10-20", "10.0.0.15-30", "10.0.0.25"}, 21},         // overlapping
		{[]string{"10.0.0.1", "10.0.0.1", "10.0.0.1/32"}, 1},                // duplicates
		{[]string{"10.0.0.0/16", "192.168.0.0/24"}, 65536 + 256},            // disjoint
		{[]string{"0.0.0.0/0"}, 1 << 32},                                    // everything
		{[]string{"255.255.255.255", "255.255.255.254-255.255.255.255"}, 2}, // the top
	}
	for _, tc := range cases {
		ts, err := discover.ParseTargets(tc.tokens)
		if err != nil {
			t.Fatal(err)
		}
		if got := discover.CountAddresses(ts); got != tc.want {
			t.Errorf("CountAddresses(%q) = %d, want %d", tc.tokens, got, tc.want)
		}
	}
}

func TestSweepRefusesTooMany(t *testing.T) {
	ts, err := discover.ParseTargets([]string{"10.0.0.0/15"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := discover.Sweep(t.Context(), ts, discover.Options{Method: discover.MethodSNMP})
	if !errors.Is(err, discover.ErrTooManyAddresses) || res != nil || !strings.Contains(err.Error(), "131072 addresses: more than the limit of 65536 per run") {
		t.Fatalf("Sweep of a /15 = %v, %v; want the limit error", res, err)
	}
	if _, err := discover.Sweep(t.Context(), ts, discover.Options{Method: discover.MethodSNMP, Force: true, NoDNS: true}); err != nil {
		t.Errorf("forced Sweep of a /15: %v", err)
	}
}

func TestSweepSNMPMethodListsEveryAddress(t *testing.T) {
	ts, err := discover.ParseTargets([]string{"198.51.100.0/30", "198.51.100.2-5"})
	if err != nil {
		t.Fatal(err)
	}
	var found int
	res, err := discover.Sweep(t.Context(), ts, discover.Options{Method: discover.MethodSNMP, Found: func(discover.Host) { found++ }})
	if err != nil {
		t.Fatal(err)
	}
	// 198.51.100.0/24 is documentation space, attached nowhere: all kept.
	if len(res.Hosts) != 6 || found != 6 {
		t.Fatalf("got %d hosts, %d Found calls; want 6", len(res.Hosts), found)
	}
	for i, h := range res.Hosts {
		if h.FoundBy != nil || h.IP != netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}) {
			t.Errorf("host %d: %s FoundBy %v", i, h.IP, h.FoundBy)
		}
	}
}

func TestSweepUnknownInterface(t *testing.T) {
	ts, _ := discover.ParseTargets([]string{"10.0.0.1"})
	_, err := discover.Sweep(t.Context(), ts, discover.Options{Method: discover.MethodARP, Interface: "nosuch0"})
	if err == nil || !strings.Contains(err.Error(), `interface "nosuch0": no such network interface`) {
		t.Fatalf("err = %v, want unknown interface", err)
	}
}

func FuzzParseTargets(f *testing.F) {
	for _, s := range []string{"10.0.0.0/24", "10.0.0.1-50", "10.0.0.1-10.0.0.9,192.168.0.1", "::1", "1.2.3.4/0", "1-2", "-", "/", "1.2.3.4-1.2.3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := discover.ParseTargets([]string{s})
		if err != nil {
			if len(ts) != 0 {
				t.Fatalf("targets %v with error %v", ts, err)
			}
			return
		}
		for _, tg := range ts {
			if !tg.First.Is4() || !tg.Last.Is4() || tg.Last.Less(tg.First) {
				t.Fatalf("%q: bad range %v-%v", s, tg.First, tg.Last)
			}
			if tg.Prefix.IsValid() && (tg.Prefix.Addr() != tg.First || !tg.Prefix.Contains(tg.Last)) {
				t.Fatalf("%q: prefix %v does not match %v-%v", s, tg.Prefix, tg.First, tg.Last)
			}
		}
		n := discover.CountAddresses(ts)
		if n == 0 || n > 1<<32 {
			t.Fatalf("%q: %d addresses", s, n)
		}
	})
}
