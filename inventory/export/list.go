package export

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/lanscout/lanscout/inventory"
)

// CSVHeader is the device list's CSV header, the same as the API's
// /api/v1/devices.csv: columns are only ever added at the end.
var CSVHeader = []string{"id", "ip", "mac", "mac_vendor", "name", "hostnames", "category", "vendor", "model", "serial",
	"state", "status", "subnet_id", "subnet", "confidence", "identified_by", "agent_id", "found_by", "first_seen", "last_seen"}

// csvText keeps a spreadsheet from reading a value as a formula: names
// come off the network, so anyone can call a device "=HYPERLINK(...)".
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// CSVRecord is the CSV row of d, whose subnet is subnetCIDR: the row of
// both this package's list and the API's /api/v1/devices.csv.
func CSVRecord(d inventory.Device, subnetCIDR string) []string {
	by := ""
	if d.Identification != nil {
		by = d.Identification.By
	}
	agent := ""
	if d.AgentID != 0 {
		agent = strconv.FormatInt(d.AgentID, 10)
	}
	hostnames := make([]string, len(d.Hostnames))
	for i, n := range d.Hostnames {
		hostnames[i] = csvText(n)
	}
	return []string{strconv.FormatInt(d.ID, 10), d.IP, d.MAC, csvText(d.MACVendor), csvText(d.Name),
		strings.Join(hostnames, " "), string(d.Category), csvText(d.Vendor), csvText(d.Model), csvText(d.Serial),
		string(d.State), string(d.Status), strconv.FormatInt(d.SubnetID, 10), subnetCIDR,
		strconv.FormatFloat(d.Classification.Confidence, 'f', 2, 64), csvText(by), agent,
		strings.Join(d.FoundBy, " "), csvTime(d.FirstSeen), csvTime(d.LastSeen)}
}

// WriteCSV writes the device list as the API's CSV download does.
func WriteCSV(w io.Writer, hosts []Host) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	for _, h := range hosts {
		if err := cw.Write(CSVRecord(h.Device, h.Subnet.CIDR)); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// WriteJSON writes the device list as the API's JSON download does: one
// array of the list's items.
func WriteJSON(w io.Writer, hosts []Host) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("[")
	for i, h := range hosts {
		b, err := json.Marshal(h.Device)
		if err != nil {
			return fmt.Errorf("write json: %w", err)
		}
		if i > 0 {
			bw.WriteString(",\n")
		}
		bw.Write(b)
	}
	bw.WriteString("]\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// Formats are the export formats by name.
var Formats = []string{"prometheus", "icinga2", "nagios", "csv", "json"}

// Options are every format's settings.
type Options struct {
	Prometheus Prometheus `yaml:"prometheus" json:"prometheus"`
	Icinga2    Templates  `yaml:"icinga2" json:"icinga2"`
	Nagios     Nagios     `yaml:"nagios" json:"nagios"`
}

// Validate checks every format's settings.
func (o Options) Validate() error {
	if err := o.Prometheus.Validate(); err != nil {
		return fmt.Errorf("prometheus: %w", err)
	}
	if err := o.Icinga2.Validate(); err != nil {
		return fmt.Errorf("icinga2: %w", err)
	}
	if err := o.Nagios.Validate(); err != nil {
		return fmt.Errorf("nagios: %w", err)
	}
	return nil
}

// Write writes hosts in the named format.
func Write(w io.Writer, format string, hosts []Host, o Options) error {
	switch format {
	case "prometheus":
		return WritePrometheus(w, hosts, o.Prometheus)
	case "icinga2":
		return WriteIcinga2(w, hosts, o.Icinga2)
	case "nagios":
		return WriteNagios(w, hosts, o.Nagios)
	case "csv":
		return WriteCSV(w, hosts)
	case "json":
		return WriteJSON(w, hosts)
	}
	return fmt.Errorf("unknown export format %q: want one of %s", format, strings.Join(Formats, ", "))
}

// DefaultFilter is the filter of a format when the caller gives none:
// monitoring formats list devices that are up (a gone device has nothing
// to poll), Prometheus only those that answered SNMP; the lists keep
// everything, like the API's downloads.
func DefaultFilter(format string) Filter {
	switch format {
	case "prometheus":
		return Filter{State: "up", SNMPOnly: true}
	case "icinga2", "nagios":
		return Filter{State: "up"}
	}
	return Filter{}
}
