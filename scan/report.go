package scan

import (
	"net/netip"
	"sort"
	"time"

	"github.com/lanscout/lanscout/discover"
	"github.com/lanscout/lanscout/snmp"
	"github.com/lanscout/lanscout/typing"
)

// Report is the result of one scan. Its JSON encoding is what
// `lanscout scan --format json` writes; the names are stable.
type Report struct {
	Started    time.Time   `json:"started"`
	DurationMS int64       `json:"duration_ms"`
	Targets    []string    `json:"targets"`
	Method     string      `json:"method"`
	Devices    []Device    `json:"devices"`
	Conflicts  []Conflict  `json:"conflicts"`
	ProxyARP   []ProxyARP  `json:"proxy_arp"`
	Warnings   []string    `json:"warnings"`
	Stats      ReportStats `json:"stats"`
	Incomplete bool        `json:"incomplete,omitempty"` // the scan was cancelled or failed part-way
}

// ReportStats count what the scan did.
type ReportStats struct {
	Addresses    int   `json:"addresses"`
	ProbesSent   int   `json:"probes_sent"`
	Responders   int   `json:"responders"`
	SNMPProbed   int   `json:"snmp_probed"`
	SNMPAnswered int   `json:"snmp_answered"`
	SweepPasses  int   `json:"sweep_passes"`
	SweepMS      int64 `json:"sweep_ms"`
	// Loss probes re-ask responders before retrying many silent
	// addresses; none lost means the silent ones were not retried.
	LossProbes     int `json:"loss_probes"`
	LossProbesLost int `json:"loss_probes_lost"`
	RetriesSkipped int `json:"retries_skipped"`
}

// Device is one responder with everything learnt about it.
type Device struct {
	IP         string    `json:"ip"`
	MAC        string    `json:"mac"`
	MACVendor  string    `json:"mac_vendor"`
	MACFlags   []string  `json:"mac_flags,omitempty"`
	Hostnames  []string  `json:"hostnames"`
	RTTMS      float64   `json:"rtt_ms"`
	FoundBy    []string  `json:"found_by"`
	OpenPorts  []uint16  `json:"open_ports,omitempty"`
	SNMP       *SNMPInfo `json:"snmp,omitempty"`
	SNMPError  string    `json:"snmp_error,omitempty"`
	Category   string    `json:"category"`
	Type       string    `json:"type,omitempty"` // an admin-defined type name, when an admin rule decided
	Vendor     string    `json:"vendor"`
	Model      string    `json:"model"`
	Serial     string    `json:"serial"`
	Confidence float64   `json:"confidence"`
	Reasons    []string  `json:"reasons"`

	// Evidence is kept for the server's store; it is not part of the CLI's
	// JSON output.
	Evidence *snmp.Evidence `json:"-"`
}

// SNMPInfo is what a device said about itself in the system group.
type SNMPInfo struct {
	Version     string `json:"version"`
	Credential  string `json:"credential"` // the credential's name, never its secret
	SysName     string `json:"sys_name"`
	SysDescr    string `json:"sys_descr"`
	SysObjectID string `json:"sys_object_id"`
	SysLocation string `json:"sys_location"`
	SysContact  string `json:"sys_contact"`
	UptimeS     int64  `json:"uptime_s"`
}

// Conflict is an address answered by more than one MAC.
type Conflict struct {
	IP   string   `json:"ip"`
	MACs []string `json:"macs"`
}

// ProxyARP is one MAC answering for many addresses.
type ProxyARP struct {
	MAC string   `json:"mac"`
	IPs []string `json:"ips"`
}

// Name is the best human name of a device: its sysName, else its first DNS
// name.
func (d Device) Name() string {
	if d.SNMP != nil && d.SNMP.SysName != "" {
		return d.SNMP.SysName
	}
	if len(d.Hostnames) > 0 {
		return d.Hostnames[0]
	}
	return ""
}

// The system group, read by every evidence plan.
const (
	oidSysDescr    = "1.3.6.1.2.1.1.1.0"
	oidSysObjectID = "1.3.6.1.2.1.1.2.0"
	oidSysUpTime   = "1.3.6.1.2.1.1.3.0"
	oidSysContact  = "1.3.6.1.2.1.1.4.0"
	oidSysName     = "1.3.6.1.2.1.1.5.0"
	oidSysLocation = "1.3.6.1.2.1.1.6.0"
)

func snmpInfo(a *snmp.Answer) *SNMPInfo {
	ev := a.Evidence
	info := &SNMPInfo{
		Version:     a.Version,
		Credential:  a.Credential,
		SysName:     ev.Text(oidSysName),
		SysDescr:    ev.Text(oidSysDescr),
		SysObjectID: ev.ObjectID(oidSysObjectID),
		SysLocation: ev.Text(oidSysLocation),
		SysContact:  ev.Text(oidSysContact),
	}
	if ticks, ok := ev.Number(oidSysUpTime); ok {
		info.UptimeS = ticks / 100
	}
	return info
}

func newDevice(h discover.Host) Device {
	d := Device{
		IP:        h.IP.String(),
		MACVendor: h.MACVendor,
		MACFlags:  h.MACFlags,
		Hostnames: h.Hostnames,
		RTTMS:     float64(h.RTT.Microseconds()) / 1000,
		FoundBy:   h.FoundBy,
		OpenPorts: h.OpenPorts,
	}
	if h.MAC != nil {
		d.MAC = h.MAC.String()
	}
	if d.Hostnames == nil {
		d.Hostnames = []string{}
	}
	if d.FoundBy == nil {
		d.FoundBy = []string{}
	}
	return d
}

func (d *Device) applyClassification(r typing.Result) {
	d.Category = string(r.Category)
	d.Type = r.Type
	d.Vendor, d.Model, d.Serial = r.Vendor, r.Model, r.Serial
	d.Confidence = r.Confidence
	d.Reasons = r.Reasons
	if d.Reasons == nil {
		d.Reasons = []string{}
	}
}

func sortDevices(ds []Device) {
	sort.Slice(ds, func(i, j int) bool {
		a, _ := netip.ParseAddr(ds[i].IP)
		b, _ := netip.ParseAddr(ds[j].IP)
		return a.Less(b)
	})
}
