package scan

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Formats lists the output formats of WriteReport.
var Formats = []string{"table", "json", "jsonl", "csv"}

// WriteReport writes r in format: "table" for people, "json" for programs
// (one document, the Report's stable field names), "jsonl" for programs
// that read devices as they come (see StreamWriter and ReadStream; here
// the whole report at once), "csv" for spreadsheets.
func WriteReport(w io.Writer, format string, r *Report) error {
	switch format {
	case "json":
		return writeJSON(w, r)
	case "jsonl":
		return writeJSONL(w, r)
	case "csv":
		return writeCSV(w, r)
	case "table":
		return writeTable(w, r)
	}
	return fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

// ReadReport parses a report written with format "json", as the server
// does with scans run by satellites.
func ReadReport(r io.Reader) (*Report, error) {
	var rep Report
	dec := json.NewDecoder(r)
	if err := dec.Decode(&rep); err != nil {
		return nil, fmt.Errorf("read scan report: %w", err)
	}
	return &rep, nil
}

// writeJSON streams the report: devices are encoded one at a time, so a
// /16 of responders never sits in memory a second time as one document.
// The bytes are those of json.Encoder with a two-space indent.
func writeJSON(w io.Writer, r *Report) error {
	shell := *r
	shell.Devices = []Device{}
	head, err := json.MarshalIndent(&shell, "", "  ")
	if err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	const slot = `"devices": []`
	cut := bytes.Index(head, []byte(slot))
	if cut < 0 {
		return errors.New("write json report: no devices field")
	}
	bw := bufio.NewWriter(w)
	bw.Write(head[:cut])
	if len(r.Devices) == 0 {
		bw.WriteString(slot)
	} else {
		bw.WriteString(`"devices": [`)
		for i := range r.Devices {
			if i > 0 {
				bw.WriteByte(',')
			}
			bw.WriteString("\n    ")
			d, err := json.MarshalIndent(&r.Devices[i], "    ", "  ")
			if err != nil {
				return fmt.Errorf("write json report: device %s: %w", r.Devices[i].IP, err)
			}
			bw.Write(d)
		}
		bw.WriteString("\n  ]")
	}
	bw.Write(head[cut+len(slot):])
	bw.WriteByte('\n')
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	return nil
}

var csvHeader = []string{"ip", "mac", "name", "category", "vendor", "model", "serial", "confidence", "mac_vendor", "hostnames", "found_by", "rtt_ms", "sys_object_id", "sys_descr"}

func writeCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return fmt.Errorf("write csv report: %w", err)
	}
	for _, d := range r.Devices {
		var oid, descr string
		if d.SNMP != nil {
			oid, descr = d.SNMP.SysObjectID, d.SNMP.SysDescr
		}
		row := []string{
			d.IP, d.MAC, d.Name(), d.Category, d.Vendor, d.Model, d.Serial,
			strconv.FormatFloat(d.Confidence, 'f', 2, 64), d.MACVendor,
			strings.Join(d.Hostnames, " "), strings.Join(d.FoundBy, " "),
			strconv.FormatFloat(d.RTTMS, 'f', 3, 64), oid, descr,
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write csv report: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv report: %w", err)
	}
	return nil
}

func writeTable(w io.Writer, r *Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "IP\tMAC\tNAME\tCATEGORY\tVENDOR\tMODEL")
	for _, d := range r.Devices {
		vendor := d.Vendor
		if vendor == "" {
			vendor = d.MACVendor
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.IP, dash(d.MAC), dash(clipCell(d.Name(), 32)), d.Category, dash(clipCell(vendor, 28)), dash(clipCell(d.Model, 28)))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	fmt.Fprintf(w, "\n%d devices in %.1fs (%d addresses, method %s)\n", len(r.Devices), float64(r.DurationMS)/1000, r.Stats.Addresses, r.Method)
	for _, c := range r.Conflicts {
		fmt.Fprintf(w, "IP conflict: %s answered by %s\n", c.IP, strings.Join(c.MACs, ", "))
	}
	for _, p := range r.ProxyARP {
		fmt.Fprintf(w, "proxy ARP: %s answers for %d addresses (%s)\n", p.MAC, len(p.IPs), summarizeIPs(p.IPs))
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	if r.Incomplete {
		fmt.Fprintln(w, "scan incomplete: interrupted before it finished")
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// clipCell keeps table columns readable; the JSON and CSV keep full values.
func clipCell(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func summarizeIPs(ips []string) string {
	if len(ips) <= 4 {
		return strings.Join(ips, ", ")
	}
	return fmt.Sprintf("%s, ... %s", strings.Join(ips[:3], ", "), ips[len(ips)-1])
}
