package export

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/typing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// hostileHosts are devices whose names, vendors and models come off the
// network and try to break out of every format.
func hostileHosts() []Host {
	at := time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC)
	office := inventory.Subnet{ID: 1, CIDR: "10.0.0.0/24", Name: "office", Site: "HQ \"main\""}
	lab := inventory.Subnet{ID: 2, CIDR: "fd00::/64", Name: "lab", Site: "lab;site"}
	snmpOf := func(cred, sysName string) *inventory.SNMPFacts {
		return &inventory.SNMPFacts{Version: "2c", Credential: cred, SysName: sysName, At: at}
	}
	return []Host{
		{Subnet: office, Device: inventory.Device{ID: 1, SubnetID: 1, IP: "10.0.0.1", MAC: "00:1b:a9:00:00:01",
			Name: "core-sw1", Category: typing.Switch, Vendor: "Cisco", Model: "WS-C3750", State: inventory.StateUp,
			SNMP: snmpOf("public", "core-sw1"), FirstSeen: at, LastSeen: at}},
		{Subnet: office, Device: inventory.Device{ID: 2, SubnetID: 1, IP: "10.0.0.2", MAC: "00:1b:a9:00:00:02",
			Name: "evil\"; object Host \"pwn\" {\n  address = \"6.6.6.6\" }\n//", Category: typing.Printer,
			Vendor: "Bro$ther$", Model: "HL;L5100 \\", State: inventory.StateUp,
			SNMP: snmpOf("v3-lab", "evil\"; object Host \"pwn\" {"), FirstSeen: at, LastSeen: at}},
		// Two devices both called "ups": their MACs tell them apart.
		{Subnet: office, Device: inventory.Device{ID: 3, SubnetID: 1, IP: "10.0.0.3", MAC: "00:c0:b7:00:00:03",
			Name: "UPS", Category: typing.Power, Vendor: "APC", Model: "Smart-UPS\t1500\r\n", State: inventory.StateUp,
			SNMP: snmpOf("public", "UPS"), FirstSeen: at, LastSeen: at}},
		{Subnet: office, Device: inventory.Device{ID: 4, SubnetID: 1, IP: "10.0.0.4", MAC: "00:c0:b7:00:00:04",
			Name: "ups", Category: typing.Power, Vendor: "=cmd|' /C calc'!A0", State: inventory.StateUp,
			SNMP: snmpOf("public", "ups"), FirstSeen: at, LastSeen: at}},
		// No name, no SNMP, no MAC: named and shown by its address;
		// not a Prometheus target.
		{Subnet: lab, Device: inventory.Device{ID: 5, SubnetID: 2, IP: "fd00::5", Category: typing.Unknown,
			Name: "", Vendor: "\xff\xfeinvalid utf-8", State: inventory.StateUp, FirstSeen: at, LastSeen: at}},
	}
}

func testOptions() Options {
	return Options{
		Prometheus: Prometheus{
			Modules:           map[typing.Category]string{typing.Switch: "if_mib", typing.Printer: "printer_mib", typing.Power: "ups_mib"},
			CredentialModules: map[string]map[string]string{"power": {"public": "ups_mib_public"}, "*": {"v3-lab": "if_mib_v3lab"}},
			Auths:             map[string]string{"public": "public_v2"},
			SNMPPort:          1161,
		},
		Icinga2: Templates{ByCategory: map[typing.Category]string{typing.Switch: "net-switch"}},
		Nagios:  Nagios{Templates: Templates{ByCategory: map[typing.Category]string{typing.Switch: "net-switch"}}},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", name, diff)
	}
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct{ format, file string }{
		{"prometheus", "hosts.prometheus.json"},
		{"icinga2", "hosts.icinga2.conf"},
		{"nagios", "hosts.nagios.cfg"},
		{"csv", "hosts.csv"},
		{"json", "hosts.json"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, tc.format, hostileHosts(), testOptions()); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.file, buf.Bytes())
		})
	}
}

func TestPrometheusLabels(t *testing.T) {
	groups := PrometheusTargets(hostileHosts(), testOptions().Prometheus)
	if len(groups) != 4 {
		t.Fatalf("%d target groups, want the 4 SNMP devices", len(groups))
	}
	want := []struct{ target, module, auth string }{
		{"10.0.0.1:1161", "if_mib", "public_v2"},         // category mapping
		{"10.0.0.2:1161", "if_mib_v3lab", "v3-lab"},      // "*" credential mapping; unmapped auth keeps its name
		{"10.0.0.3:1161", "ups_mib_public", "public_v2"}, // category and credential
		{"10.0.0.4:1161", "ups_mib_public", "public_v2"},
	}
	for i, w := range want {
		g := groups[i]
		if g.Targets[0] != w.target || g.Labels["__param_module"] != w.module || g.Labels["__param_auth"] != w.auth {
			t.Errorf("group %d: %v %v, want %+v", i, g.Targets, g.Labels, w)
		}
	}
	var buf bytes.Buffer
	if err := WritePrometheus(&buf, nil, Prometheus{}); err != nil || buf.String() != "[]\n" {
		t.Errorf("empty list: %q %v, want []", buf.String(), err)
	}
	noAuth := PrometheusTargets(hostileHosts()[:1], Prometheus{NoAuth: true})
	if _, ok := noAuth[0].Labels["__param_auth"]; ok || noAuth[0].Targets[0] != "10.0.0.1" ||
		noAuth[0].Labels["__param_module"] != DefaultModule {
		t.Errorf("defaults: %+v", noAuth[0])
	}
}

func TestDefaultModules(t *testing.T) {
	// Without settings: a module of snmp_exporter's snmp.yml that suits
	// the category, interfaces for network gear and the rest.
	want := map[typing.Category]string{
		typing.Router: "if_mib", typing.Switch: "if_mib", typing.Firewall: "if_mib", typing.Wireless: "if_mib",
		typing.LoadBalancer: "if_mib", typing.Printer: "printer_mib", typing.Power: "ups_mib",
		typing.Storage: "hrStorage", typing.Server: "hrStorage", typing.Workstation: "hrStorage",
		typing.Management: "if_mib", typing.Phone: "if_mib", typing.Camera: "if_mib",
		typing.Environment: "if_mib", typing.Other: "if_mib", typing.Unknown: "if_mib",
	}
	got := map[typing.Category]string{}
	for _, c := range typing.Categories {
		got[c] = Prometheus{}.Module(c, "public")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("built-in modules (-want +got):\n%s", diff)
	}
	// Settings win: a category's module, then default_module for every
	// category left out (as before there were built-in ones).
	p := Prometheus{Modules: map[typing.Category]string{typing.Power: "apcups"}, DefaultModule: "system"}
	for cat, want := range map[typing.Category]string{typing.Power: "apcups", typing.Printer: "system", typing.Switch: "system"} {
		if got := p.Module(cat, ""); got != want {
			t.Errorf("%s: module %q, want %q", cat, got, want)
		}
	}
	p = Prometheus{Modules: map[typing.Category]string{typing.Printer: "my_printer"}}
	if got := p.Module(typing.Printer, ""); got != "my_printer" {
		t.Errorf("printer: module %q, want my_printer", got)
	}
	if got := p.Module(typing.Power, ""); got != "ups_mib" {
		t.Errorf("power: module %q, want the built-in ups_mib", got)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"unknown category", Options{Prometheus: Prometheus{Modules: map[typing.Category]string{"toaster": "x"}}}},
		{"empty module", Options{Prometheus: Prometheus{Modules: map[typing.Category]string{"switch": ""}}}},
		{"credential category", Options{Prometheus: Prometheus{CredentialModules: map[string]map[string]string{"toaster": {"a": "b"}}}}},
		{"bad template", Options{Icinga2: Templates{ByCategory: map[typing.Category]string{"switch": "a b"}}}},
		{"bad prefix", Options{Nagios: Nagios{HostgroupPrefix: "x;y"}}},
		{"port", Options{Prometheus: Prometheus{SNMPPort: 70000}}},
	} {
		if err := tc.o.Validate(); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	if err := testOptions().Validate(); err != nil {
		t.Errorf("good options: %v", err)
	}
	for _, f := range []Filter{{Categories: []typing.Category{"toaster"}}, {State: "asleep"}, {Subnets: []string{"10.0.0.0/33"}}} {
		if f.Validate() == nil {
			t.Errorf("filter %+v: no error", f)
		}
	}
}

func TestJSONIsTheDeviceList(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, hostileHosts()); err != nil {
		t.Fatal(err)
	}
	var got []inventory.Device
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || got[1].Name != hostileHosts()[1].Name {
		t.Errorf("round trip: %d devices, name %q", len(got), got[1].Name)
	}
}
