// Package oui names the vendor of a MAC address from the IEEE registries
// and describes how the address was assigned.
//
// The table is compiled from Debian's ieee-data package (IEEE Registration
// Authority MA-L, MA-M, MA-S and IAB registries) by ./internal/gen and
// embedded compressed; see NOTICE.
package oui

//go:generate go run ./internal/gen -in /usr/share/ieee-data -out oui.bin.gz

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
)

//go:embed oui.bin.gz
var compressed []byte

type table struct {
	bits     int
	prefixes []uint64 // sorted
	names    []uint32 // index into db.names
}

type db struct {
	names  []string
	tables []table // longest prefix first
}

// load decodes the embedded table once, on first use (~10 ms), so
// programs that never look a vendor up do not pay for it.
var load = sync.OnceValues(func() (*db, error) { return decode(compressed) })

func decode(b []byte) (*db, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	r := bufio.NewReader(zr)
	magic := make([]byte, 4)
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != "OUI1" {
		return nil, errors.New("oui: bad table header")
	}
	get := func() uint64 {
		v, e := binary.ReadUvarint(r)
		if e != nil && err == nil {
			err = e
		}
		return v
	}
	d := &db{}
	n := get()
	d.names = make([]string, 0, n)
	for range n {
		l := get()
		buf := make([]byte, l)
		if _, e := io.ReadFull(r, buf); e != nil {
			return nil, fmt.Errorf("oui: names: %w", e)
		}
		d.names = append(d.names, string(buf))
	}
	for _, bits := range []int{24, 28, 36} {
		t := table{bits: bits}
		cnt := get()
		var prev uint64
		for range cnt {
			prev += get()
			idx := get()
			if idx >= uint64(len(d.names)) {
				return nil, errors.New("oui: bad vendor index")
			}
			t.prefixes = append(t.prefixes, prev)
			t.names = append(t.names, uint32(idx))
		}
		d.tables = append([]table{t}, d.tables...)
	}
	if err != nil {
		return nil, fmt.Errorf("oui: %w", err)
	}
	return d, nil
}

// Lookup returns the organisation the IEEE registered mac's prefix to, or
// "" when it is unknown, locally administered or a group address. The
// longest registered prefix wins: 36-bit MA-S and IAB blocks, then 28-bit
// MA-M, then 24-bit MA-L.
func Lookup(mac net.HardwareAddr) string {
	if len(mac) < 3 || mac[0]&0x03 != 0 {
		return ""
	}
	d, err := load()
	if err != nil {
		return ""
	}
	var v uint64
	for i := range 6 {
		v <<= 8
		if i < len(mac) {
			v |= uint64(mac[i])
		}
	}
	for _, t := range d.tables {
		if t.bits > 8*len(mac) {
			continue
		}
		if i, ok := slices.BinarySearch(t.prefixes, v>>(48-t.bits)); ok {
			return d.names[t.names[i]]
		}
	}
	return ""
}

// Flags describes how mac was assigned:
//
//   - "multicast": the group bit is set (not a host's address).
//   - "locally-administered": the U/L bit is set; the address was chosen
//     by software, not burnt in by the vendor.
//   - "randomized": locally administered unicast, outside the well-known
//     software-assigned prefixes below. Android, iOS, macOS and Windows
//     private Wi-Fi addresses draw all 46 free bits at random, so they
//     land in every SLAP quadrant (x2, x6, xA, xE) and cannot be told
//     apart from other local addresses by their bits alone; what can be
//     recognised are hypervisors and container engines, which use fixed
//     local prefixes.
func Flags(mac net.HardwareAddr) []string {
	if len(mac) == 0 {
		return nil
	}
	var f []string
	if mac[0]&0x01 != 0 {
		f = append(f, "multicast")
	}
	if mac[0]&0x02 != 0 {
		f = append(f, "locally-administered")
		if mac[0]&0x01 == 0 && !softwareAssigned(mac) {
			f = append(f, "randomized")
		}
	}
	return f
}

// softwarePrefixes are locally administered prefixes that virtualisation
// and container software assign deterministically.
var softwarePrefixes = [][]byte{
	{0x02, 0x42},       // Docker bridge networks
	{0x52, 0x54, 0x00}, // QEMU/KVM, libvirt
	{0x0a, 0x00, 0x27}, // VirtualBox host-only adapters
	{0x02, 0x00, 0x4c}, // Microsoft loopback adapter
	{0x02, 0x50, 0x41}, // Apple/VMware Fusion virtual adapters
	{0xfe, 0xff, 0xff}, // Xen backend (vif) interfaces
}

func softwareAssigned(mac net.HardwareAddr) bool {
	for _, p := range softwarePrefixes {
		if bytes.HasPrefix(mac, p) {
			return true
		}
	}
	return false
}
