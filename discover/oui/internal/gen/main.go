// Command gen compiles the IEEE MAC address registries, as packaged by
// Debian's ieee-data, into the compact table package oui embeds.
//
// Usage (from discover/oui, via go generate):
//
//	go run ./internal/gen -in /usr/share/ieee-data -out oui.bin.gz
//
// Format of the gzip-compressed output, every integer an unsigned varint:
//
//	"OUI1"
//	count, then count vendor names (length, bytes), sorted, unique
//	three tables, for 24-bit (MA-L), 28-bit (MA-M) and 36-bit (MA-S, IAB)
//	prefixes: count, then count pairs (prefix minus the previous prefix,
//	vendor index), sorted by prefix
package main

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// registries maps each CSV to the prefix length of its assignments.
var registries = []struct {
	file string
	bits int
}{
	{"oui.csv", 24},
	{"mam.csv", 28},
	{"oui36.csv", 36},
	{"iab.csv", 36},
}

func main() {
	in := flag.String("in", "/usr/share/ieee-data", "directory holding the ieee-data CSV files")
	out := flag.String("out", "oui.bin.gz", "output file")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		log.Fatal(err)
	}
}

type entry struct {
	prefix uint64
	name   string
}

func run(in, out string) error {
	tables := map[int]map[uint64]string{24: {}, 28: {}, 36: {}}
	names := map[string]bool{}
	for _, r := range registries {
		n, err := readCSV(filepath.Join(in, r.file), r.bits, tables[r.bits], names)
		if err != nil {
			return err
		}
		log.Printf("%s: %d assignments", r.file, n)
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	slices.Sort(sorted)
	index := map[string]uint64{}
	for i, n := range sorted {
		index[n] = uint64(i)
	}

	f, err := os.Create(out)
	if err != nil {
		return err
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
	w := bufio.NewWriter(zw)
	put := func(v uint64) { w.Write(binary.AppendUvarint(nil, v)) }
	w.WriteString("OUI1")
	put(uint64(len(sorted)))
	for _, n := range sorted {
		put(uint64(len(n)))
		w.WriteString(n)
	}
	for _, bits := range []int{24, 28, 36} {
		var es []entry
		for p, n := range tables[bits] {
			es = append(es, entry{p, n})
		}
		slices.SortFunc(es, func(a, b entry) int {
			switch {
			case a.prefix < b.prefix:
				return -1
			case a.prefix > b.prefix:
				return 1
			}
			return 0
		})
		put(uint64(len(es)))
		var prev uint64
		for _, e := range es {
			put(e.prefix - prev)
			put(index[e.name])
			prev = e.prefix
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}

func readCSV(path string, bits int, table map[uint64]string, names map[string]bool) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	n := 0
	for line := 1; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("%s: %w", path, err)
		}
		if line == 1 || len(rec) < 3 {
			continue // header
		}
		hex := strings.TrimSpace(rec[1])
		if len(hex) != bits/4 {
			return n, fmt.Errorf("%s:%d: assignment %q is not %d bits", path, line, hex, bits)
		}
		p, err := strconv.ParseUint(hex, 16, 64)
		if err != nil {
			return n, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		name := strings.Join(strings.Fields(rec[2]), " ")
		// "Private" hides the owner; it names no vendor.
		if name == "" || strings.EqualFold(name, "private") {
			continue
		}
		if _, dup := table[p]; dup {
			continue // the first registration of a prefix wins
		}
		table[p] = name
		names[name] = true
		n++
	}
}
