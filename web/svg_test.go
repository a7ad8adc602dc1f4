package web

import (
	"net/http"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/typing"
)

// TestMapColoursReadable: every cell's number is readable on its fill
// (WCAG AA for normal text, 4.5:1), and every category colour stands out
// from the page and the empty cells as a graphic (3:1 against white).
func TestMapColoursReadable(t *testing.T) {
	for _, c := range typing.Categories {
		fill := categoryColour(c)
		if r := contrast(fill, readableInk(fill)); r < 4.5 {
			t.Errorf("%s: text on %s has contrast %.2f, want 4.5", c, fill, r)
		}
		if r := contrast(fill, emptyFill); r < 2.5 {
			t.Errorf("%s: %s against an empty cell has contrast %.2f", c, fill, r)
		}
	}
	for _, pair := range [][2]string{{goneFill, goneInk}, {emptyFill, emptyInk}} {
		if r := contrast(pair[0], pair[1]); r < 4.5 {
			t.Errorf("text %s on %s has contrast %.2f, want 4.5", pair[1], pair[0], r)
		}
	}
	if _, ok := categoryColours[typing.Category("toaster")]; ok || categoryColour("toaster") != categoryColours["unknown"] {
		t.Error("an unknown category does not fall back to the unknown colour")
	}
	// The WCAG formula itself: black on white is 21, a colour on itself 1.
	if r := contrast("#000000", "#ffffff"); r < 20.99 || r > 21.01 {
		t.Errorf("black on white: %.3f", r)
	}
	if r := contrast("#2563eb", "#2563eb"); r != 1 {
		t.Errorf("a colour on itself: %.3f", r)
	}
}

func TestMapView(t *testing.T) {
	cases := []struct {
		cidr, block string
		want        string
		blocks      bool
		status      int
	}{
		{"10.0.0.0/24", "", "10.0.0.0/24", false, http.StatusOK},
		{"10.0.0.0/23", "10.0.1.5", "10.0.0.0/23", false, http.StatusOK}, // drawn whole
		{"10.0.0.0/28", "", "10.0.0.0/28", false, http.StatusOK},
		{"10.0.0.0/16", "", "10.0.0.0/24", true, http.StatusOK},
		{"10.0.0.0/16", "10.0.77.9", "10.0.77.0/24", true, http.StatusOK},
		{"10.0.0.0/16", "10.0.77.0/24", "10.0.77.0/24", true, http.StatusOK},
		{"10.0.0.0/16", "10.1.0.0", "10.0.0.0/24", true, http.StatusBadRequest},
		{"10.0.0.0/16", "nonsense", "10.0.0.0/24", true, http.StatusBadRequest},
	}
	for _, c := range cases {
		v, blocks, status, msg := mapView(netip.MustParsePrefix(c.cidr), c.block)
		if v.String() != c.want || blocks != c.blocks || status != c.status || (status != http.StatusOK) != (msg != "") {
			t.Errorf("mapView(%s, %q) = %s %v %d %q, want %s %v %d", c.cidr, c.block, v, blocks, status, msg, c.want, c.blocks, c.status)
		}
	}
}

func TestNeighbourBlock(t *testing.T) {
	p := netip.MustParsePrefix("10.0.0.0/22")
	cases := []struct {
		block string
		dir   int
		want  string // "" when none
	}{
		{"10.0.0.0/24", -1, ""},
		{"10.0.0.0/24", 1, "10.0.1.0/24"},
		{"10.0.3.0/24", 1, ""},
		{"10.0.3.0/24", -1, "10.0.2.0/24"},
	}
	for _, c := range cases {
		got, ok := neighbourBlock(p, netip.MustParsePrefix(c.block), c.dir)
		if s := got.String(); ok != (c.want != "") || ok && s != c.want {
			t.Errorf("neighbourBlock(%s, %d) = %s %v, want %q", c.block, c.dir, got, ok, c.want)
		}
	}
	// The ends of the address space.
	if _, ok := neighbourBlock(netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("0.0.0.0/24"), -1); ok {
		t.Error("a block before 0.0.0.0")
	}
	if _, ok := neighbourBlock(netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("255.255.255.0/24"), 1); ok {
		t.Error("a block after 255.255.255.0")
	}
}

func TestBuildIPMap(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	p := netip.MustParsePrefix("192.0.2.0/28")
	devs := []inventory.Device{
		{ID: 1, IP: "192.0.2.1", Name: "gw", MAC: "02:00:00:00:00:01", MACVendor: "Acme", Category: "router",
			Vendor: "Cisco", Model: "ISR", State: inventory.StateUp, LastSeen: now.Add(-2 * time.Hour)},
		// Two devices on one address: the one up is drawn.
		{ID: 2, IP: "192.0.2.5", Category: "printer", State: inventory.StateGone, LastSeen: now.Add(-72 * time.Hour)},
		{ID: 3, IP: "192.0.2.5", Category: "phone", State: inventory.StateUp, LastSeen: now.Add(-time.Hour)},
		{ID: 4, IP: "192.0.2.9", Category: "server", State: inventory.StateGone, LastSeen: now.Add(-72 * time.Hour)},
	}
	m := buildIPMap(p, p, devs, now)
	if len(m.Cells) != 16 || len(m.Rows) != 1 || m.Up != 2 || m.Gone != 1 || m.Free != 11 || len(m.Devices) != 3 {
		t.Fatalf("map: %d cells, %d rows, up %d, gone %d, free %d, %d devices", len(m.Cells), len(m.Rows), m.Up, m.Gone, m.Free, len(m.Devices))
	}
	want := map[int]struct{ state, href, title string }{
		0:  {"reserved", "", "192.0.2.0: the subnet's network address"},
		1:  {"up", "/devices/1", "192.0.2.1 · gw · 02:00:00:00:00:01 (Acme) · router, Cisco ISR · up · last seen 2 h ago (" + now.Add(-2*time.Hour).Local().Format("2006-01-02 15:04") + ")"},
		2:  {"free", "", "192.0.2.2: never seen"},
		5:  {"up", "/devices/3", ""},
		9:  {"gone", "/devices/4", ""},
		15: {"reserved", "", "192.0.2.15: the subnet's broadcast address"},
	}
	for i, w := range want {
		c := m.Cells[i]
		if c.State != w.state || c.Href != w.href || w.title != "" && c.Title != w.title {
			t.Errorf("cell %d: %s %s %q, want %s %s %q", i, c.State, c.Href, c.Title, w.state, w.href, w.title)
		}
	}
	if c := m.Cells[9]; c.Fill != goneFill || c.Stroke != categoryColour("server") {
		t.Errorf("a gone server is drawn %s outlined %s, want %s outlined in its colour", c.Fill, c.Stroke, goneFill)
	}
	if c := m.Cells[5]; c.Fill != categoryColour("phone") {
		t.Errorf("the phone up at .5 is drawn %s", c.Fill)
	}
	// A /31 or /32 has no network and broadcast addresses to set aside.
	small := netip.MustParsePrefix("192.0.2.8/31")
	if m := buildIPMap(small, small, nil, now); m.Free != 2 {
		t.Errorf("/31: %d free, want 2", m.Free)
	}
	// One /24 of a /16: 256 cells, 16 rows, the subnet's network address
	// only in its first block.
	wide := netip.MustParsePrefix("10.1.0.0/16")
	m = buildIPMap(wide, netip.MustParsePrefix("10.1.7.0/24"), nil, now)
	if len(m.Cells) != 256 || len(m.Rows) != 16 || m.Free != 256 || m.Rows[1].Label != "10.1.7.16" {
		t.Errorf("block of a /16: %d cells, %d rows, %d free", len(m.Cells), len(m.Rows), m.Free)
	}
}

func TestDayChart(t *testing.T) {
	day := func(i int) time.Time { return time.Date(2026, 10, 24, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i) }
	var days []inventory.DayCount
	for i := range 30 {
		days = append(days, inventory.DayCount{Day: day(i)})
	}
	days[3].Count, days[29].Count = 7, 3
	ch := newDayChart(days)
	if len(ch.Columns) != 30 || ch.Total != 10 || ch.Max != 10 {
		t.Fatalf("chart: %d columns, total %d, max %d", len(ch.Columns), ch.Total, ch.Max)
	}
	if c := ch.Columns[0]; c.H != 0 {
		t.Errorf("a day with none has a column %d high", c.H)
	}
	c3, c29 := ch.Columns[3], ch.Columns[29]
	if c3.H <= c29.H || c3.Y+c3.H != ch.Base || c29.X+c29.W > ch.Right || c3.Title != "Tue 27 Oct: 7 new devices" {
		t.Errorf("columns %+v %+v (base %d, right %d)", c3, c29, ch.Base, ch.Right)
	}
	if len(ch.Ticks) == 0 || ch.Ticks[len(ch.Ticks)-1].Label != "22 Nov" {
		t.Errorf("ticks %+v, want the last day labelled", ch.Ticks)
	}
	if empty := newDayChart(nil); empty.Total != 0 || len(empty.Columns) != 0 {
		t.Errorf("empty chart %+v", empty)
	}
	for n, want := range map[int]int{0: 1, 1: 1, 2: 2, 3: 5, 7: 10, 10: 10, 11: 20, 40: 50, 51: 100, 999: 1000} {
		if got := niceCeil(n); got != want {
			t.Errorf("niceCeil(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestBlockListBounded(t *testing.T) {
	per := map[netip.Prefix]int{}
	for i := range 3000 {
		per[netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24)] = 1
	}
	for _, c := range []struct {
		current     netip.Prefix
		first, last string
	}{
		{netip.MustParsePrefix("10.0.0.0/24"), "10.0.0.0/24", "10.3.255.0/24"},
		{netip.MustParsePrefix("10.5.0.0/24"), "10.3.0.0/24", "10.6.255.0/24"},       // block 1280 of 3000, centred
		{netip.MustParsePrefix("10.11.183.0/24"), "10.7.184.0/24", "10.11.183.0/24"}, // the last
	} {
		got := blockList(per, c.current)
		sel := slices.IndexFunc(got, func(b mapBlock) bool { return b.Selected })
		if len(got) != mapMaxBlocks || got[0].Prefix != c.first || got[len(got)-1].Prefix != c.last || sel < 0 {
			t.Errorf("around %s: %d blocks %s..%s, selected at %d", c.current, len(got), got[0].Prefix, got[len(got)-1].Prefix, sel)
		}
	}
	// The current block is listed even when empty.
	got := blockList(map[netip.Prefix]int{netip.MustParsePrefix("10.0.1.0/24"): 2}, netip.MustParsePrefix("10.0.0.0/24"))
	if len(got) != 2 || !got[0].Selected || got[0].Devices != 0 || got[1].Devices != 2 {
		t.Errorf("blocks %+v", got)
	}
}
