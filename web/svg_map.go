package web

import (
	"cmp"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/typing"
)

// The IP map is laid out here, in Go, so the template only places
// rectangles: every address of the subnet (or of one /24 of a wider one)
// is a cell, filled with its device's category colour when the device is
// up, outlined when it is gone, blank when nothing was ever seen there.
// Filled versus outlined tells up from gone without relying on colour.

const (
	mapCols     = 16
	mapCellSize = 38
	mapGap      = 4
	mapLabelW   = 104 // the row labels: each row's first address
	mapMaxWhole = 23  // subnets up to a /23 are drawn whole; wider ones one /24 at a time
)

// categoryColours mirror the .cat-* rules of app.css; the map needs them
// in Go to pick a readable text colour for each.
var categoryColours = map[typing.Category]string{
	"router": "#2563eb", "switch": "#0891b2", "firewall": "#dc2626", "wireless": "#7c3aed",
	"loadbalancer": "#4f46e5", "printer": "#db2777", "power": "#ca8a04", "storage": "#9333ea",
	"server": "#059669", "workstation": "#0d9488", "management": "#475569", "phone": "#ea580c",
	"camera": "#be123c", "environment": "#65a30d", "other": "#64748b", "unknown": "#94a3b8",
}

// The colours of cells that are not filled with a category.
const (
	inkDark     = "#111827"
	inkLight    = "#ffffff"
	goneFill    = "#f2f4f7"
	goneInk     = "#344054"
	emptyFill   = "#ffffff"
	emptyStroke = "#d0d5dd"
	emptyInk    = "#667085"
	reservedInk = "#98a2b3"
)

type ipMap struct {
	Width, Height  int
	Label          string // the SVG's accessible name
	Rows           []mapRow
	Cells          []mapCell
	Up, Gone, Free int
	Devices        []mapCell // the cells with a device, for the text alternative
}

type mapRow struct {
	Y     int
	Label string
}

type mapCell struct {
	X, Y              int
	IP, Octet         string
	Fill, Stroke, Ink string
	StrokeW           float64
	Href              string
	Title             string
	State             string // "up", "gone", "free", "reserved"
	Device            *inventory.Device
	Category          string
}

// mapView returns the part of p to draw: p itself up to a /23, else the
// /24 holding block (an address; the first /24 when empty). blocks says
// whether a block was chosen; status and msg report a bad block.
func mapView(p netip.Prefix, block string) (view netip.Prefix, blocks bool, status int, msg string) {
	if p.Bits() >= mapMaxWhole {
		return p, false, http.StatusOK, ""
	}
	first, _ := p.Addr().Prefix(24)
	if block == "" {
		return first, true, http.StatusOK, ""
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimSpace(block), "/24"))
	if err != nil || !p.Contains(a) {
		return first, true, http.StatusBadRequest, fmt.Sprintf("%q is not an address inside %s; showing %s.", block, p, first)
	}
	b, _ := a.Prefix(24)
	return b, true, http.StatusOK, ""
}

// neighbourBlock returns the /24 before (dir -1) or after (dir 1) b
// inside p.
func neighbourBlock(p, b netip.Prefix, dir int) (netip.Prefix, bool) {
	x := b.Addr().As4()
	v := uint32(x[0])<<24 | uint32(x[1])<<16 | uint32(x[2])<<8
	if dir < 0 {
		if v < 256 {
			return netip.Prefix{}, false
		}
		v -= 256
	} else {
		if v > math.MaxUint32-256 {
			return netip.Prefix{}, false
		}
		v += 256
	}
	n := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), 0}), 24)
	return n, p.Contains(n.Addr())
}

// mapMaxBlocks bounds the picker: a /8 with devices everywhere would
// otherwise make a page of tens of thousands of options. The blocks
// nearest the current one are kept; the address field reaches the rest.
const mapMaxBlocks = 1024

// blockList lists the blocks that hold devices and the current one, in
// address order, at most mapMaxBlocks of them around the current one.
func blockList(perBlock map[netip.Prefix]int, current netip.Prefix) []mapBlock {
	if _, ok := perBlock[current]; !ok {
		perBlock[current] = 0
	}
	keys := make([]netip.Prefix, 0, len(perBlock))
	for k := range perBlock {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })
	if len(keys) > mapMaxBlocks {
		at := slices.Index(keys, current)
		from := min(max(at-mapMaxBlocks/2, 0), len(keys)-mapMaxBlocks)
		keys = keys[from : from+mapMaxBlocks]
	}
	out := make([]mapBlock, 0, len(keys))
	for _, k := range keys {
		out = append(out, mapBlock{Prefix: k.String(), Devices: perBlock[k], Selected: k == current})
	}
	return out
}

// buildIPMap lays out every address of view, a part of the subnet p;
// devs are the subnet's devices inside view.
func buildIPMap(p, view netip.Prefix, devs []inventory.Device, now time.Time) ipMap {
	byIP := map[netip.Addr]*inventory.Device{}
	for i := range devs {
		d := &devs[i]
		a, err := netip.ParseAddr(d.IP)
		if err != nil {
			continue
		}
		// Two devices on one address: the one up wins, then the latest.
		if prev, ok := byIP[a]; ok && (prev.State == inventory.StateUp && d.State != inventory.StateUp ||
			prev.State == d.State && prev.LastSeen.After(d.LastSeen)) {
			continue
		}
		byIP[a] = d
	}
	size := 1 << (32 - view.Bits())
	m := ipMap{Width: mapLabelW + mapCols*(mapCellSize+mapGap), Height: ((size + mapCols - 1) / mapCols) * (mapCellSize + mapGap)}
	network, broadcast := p.Masked().Addr(), lastAddr(p)
	reserve := p.Bits() <= 30
	a := view.Masked().Addr()
	for i := 0; i < size; i, a = i+1, a.Next() {
		col, row := i%mapCols, i/mapCols
		if col == 0 {
			m.Rows = append(m.Rows, mapRow{Y: row * (mapCellSize + mapGap), Label: a.String()})
		}
		oct := a.As4()[3]
		cell := mapCell{X: mapLabelW + col*(mapCellSize+mapGap), Y: row * (mapCellSize + mapGap), IP: a.String(),
			Octet: fmt.Sprint(oct)}
		switch d := byIP[a]; {
		case d != nil:
			cell.Device = d
			cell.Category = string(d.Category)
			cell.Href = fmt.Sprintf("/devices/%d", d.ID)
			colour := categoryColour(d.Category)
			if d.State == inventory.StateUp {
				cell.State, cell.Fill, cell.Stroke, cell.StrokeW, cell.Ink = "up", colour, colour, 1, readableInk(colour)
				m.Up++
			} else {
				cell.State, cell.Fill, cell.Stroke, cell.StrokeW, cell.Ink = "gone", goneFill, colour, 3, goneInk
				m.Gone++
			}
			cell.Title = deviceTitle(d, now)
			m.Devices = append(m.Devices, cell)
		case reserve && (a == network || a == broadcast):
			cell.State, cell.Fill, cell.Stroke, cell.StrokeW, cell.Ink = "reserved", emptyFill, emptyStroke, 1, reservedInk
			what := "network address"
			if a == broadcast {
				what = "broadcast address"
			}
			cell.Title = fmt.Sprintf("%s: the subnet's %s", a, what)
		default:
			cell.State, cell.Fill, cell.Stroke, cell.StrokeW, cell.Ink = "free", emptyFill, emptyStroke, 1, emptyInk
			cell.Title = fmt.Sprintf("%s: never seen", a)
			m.Free++
		}
		m.Cells = append(m.Cells, cell)
	}
	m.Label = fmt.Sprintf("IP map of %s: %d addresses, %d devices up, %d gone, %d never seen", view, size, m.Up, m.Gone, m.Free)
	return m
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v |= uint32(1)<<(32-p.Bits()) - 1
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// deviceTitle is the hover text of a device's cell.
func deviceTitle(d *inventory.Device, now time.Time) string {
	parts := []string{d.IP}
	if d.Name != "" {
		parts = append(parts, d.Name)
	}
	if d.MAC != "" {
		mac := d.MAC
		if d.MACVendor != "" {
			mac += " (" + d.MACVendor + ")"
		}
		parts = append(parts, mac)
	}
	cat := catLabelOf(d.Category)
	if d.Vendor != "" {
		cat += ", " + d.Vendor
		if d.Model != "" {
			cat += " " + d.Model
		}
	}
	parts = append(parts, cat, string(d.State))
	if !d.LastSeen.IsZero() {
		parts = append(parts, "last seen "+ago(now.Sub(d.LastSeen))+" ("+d.LastSeen.Local().Format("2006-01-02 15:04")+")")
	}
	return strings.Join(parts, " · ")
}

// ago says how long ago, roughly, for people.
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	default:
		return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
	}
}

func catLabelOf(c typing.Category) string {
	if c == typing.LoadBalancer {
		return "load balancer"
	}
	return cmp.Or(string(c), "unknown")
}

func categoryColour(c typing.Category) string {
	if col, ok := categoryColours[c]; ok {
		return col
	}
	return categoryColours["unknown"]
}

// legendEntry is one swatch of the map's legend.
type legendEntry struct {
	Label, Fill, Stroke, Ink string
	StrokeW                  float64
}

func mapLegend() []legendEntry {
	out := []legendEntry{
		{Label: "never seen", Fill: emptyFill, Stroke: emptyStroke, Ink: emptyInk, StrokeW: 1},
		{Label: "gone (outlined in its category's colour)", Fill: goneFill, Stroke: categoryColours["unknown"], Ink: goneInk, StrokeW: 3},
	}
	for _, c := range typing.Categories {
		col := categoryColour(c)
		out = append(out, legendEntry{Label: catLabelOf(c), Fill: col, Stroke: col, Ink: readableInk(col), StrokeW: 1})
	}
	return out
}

// readableInk picks dark or white text for a fill, whichever contrasts
// more (WCAG relative luminance).
func readableInk(fill string) string {
	if contrast(fill, inkDark) >= contrast(fill, inkLight) {
		return inkDark
	}
	return inkLight
}

// contrast is the WCAG 2 contrast ratio of two #rrggbb colours, 1 to 21.
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(hex string) float64 {
	var r, g, b int
	if _, err := fmt.Sscanf(hex, "#%02x%02x%02x", &r, &g, &b); err != nil {
		return 0
	}
	lin := func(v int) float64 {
		c := float64(v) / 255
		if c <= 0.03928 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}
