package typing_test

import (
	"strings"
	"testing"

	"github.com/lanscout/lanscout/snmp"
	"github.com/lanscout/lanscout/typing"
)

// Devices written from MIB knowledge and vendors' documentation, not from
// the dev corpus: they keep the rules honest about whole product families.
func TestSyntheticDevices(t *testing.T) {
	c, err := typing.New(typing.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name       string
		in         typing.Input
		want       typing.Category
		vendor     string // substring, "" to skip
		model      string
		serial     string
		reasonPart string
	}{
		{
			name: "net-snmp Linux server",
			in: typing.Input{Evidence: evidence(
				descr("Linux web01 5.15.0-91-generic #101-Ubuntu SMP Tue Nov 14 13:30:08 UTC 2023 x86_64"),
				sysOID("1.3.6.1.4.1.8072.3.2.10"), services(72), hostResources(2),
				ifTypes(1, 1, 24), ifTypes(2, 2, 6),
			)},
			want: typing.Server, reasonPart: "Linux",
		},
		{
			name: "Windows 10 workstation",
			in: typing.Input{Evidence: evidence(
				descr("Hardware: Intel64 Family 6 Model 158 Stepping 10 AT/AT COMPATIBLE - Software: Windows Version 6.3 (Build 19045 Multiprocessor Free)"),
				sysOID("1.3.6.1.4.1.311.1.1.3.1.1"), services(76), hostResources(1),
			), MACVendor: "Dell Inc."},
			want: typing.Workstation, vendor: "Microsoft",
		},
		{
			name: "Windows Server domain controller",
			in: typing.Input{Evidence: evidence(
				descr("Hardware: Intel64 Family 6 Model 85 Stepping 7 AT/AT COMPATIBLE - Software: Windows Version 6.3 (Build 17763 Multiprocessor Free)"),
				sysOID("1.3.6.1.4.1.311.1.1.3.1.3"), services(76), hostResources(0),
			)},
			want: typing.Server,
		},
		{
			name: "HP LaserJet with JetDirect",
			in: typing.Input{Evidence: evidence(
				descr("HP ETHERNET MULTI-ENVIRONMENT,ROM none,JETDIRECT,JD153,EEPROM JSI23900,CIDATE 06/17/2021"),
				sysOID("1.3.6.1.4.1.11.2.3.9.1"), services(72),
				oidv(snmp.OIDHrDeviceType+".1", "1.3.6.1.2.1.25.3.1.5"),
				str(snmp.OIDHrDeviceDescr+".1", "HP LaserJet M507"),
				str(snmp.OIDPrtGeneralSerialNumber+".1", "PHBLK12345"),
				num("1.3.6.1.2.1.43.5.1.1.1.1", 12),
			)},
			want: typing.Printer, model: "HP LaserJet M507", serial: "PHBLK12345", reasonPart: "Printer-MIB",
		},
		{
			name: "APC Smart-UPS with UPS-MIB",
			in: typing.Input{Evidence: evidence(
				descr("APC Web/SNMP Management Card (MB:v4.1.0 PF:v6.8.2 PN:apc_hw05_aos_682.bin AF1:v6.8.2 AN1:apc_hw05_sumx_682.bin MN:AP9630 HR:05 SN: ZA1234567890 MD:01/01/2019)"),
				sysOID("1.3.6.1.4.1.318.1.3.27"),
				str(snmp.OIDUpsIdentManufacturer, "APC"),
				str(snmp.OIDUpsIdentModel, "Smart-UPS 1500"),
				num(snmp.OIDUpsBatteryStatus, 2),
			)},
			want: typing.Power, vendor: "APC", model: "Smart-UPS 1500", reasonPart: "UPS-MIB",
		},
		{
			name: "APC PDU whose card model looks like an AP number",
			in: typing.Input{Evidence: evidence(
				descr("APC Web/SNMP Management Card (MB:v3.9.2 PF:v6.4.6 PN:apc_hw05_aos_646.bin AF1:v6.4.6 AN1:apc_hw05_rpdu2g_646.bin MN:AP8959EU3 HR:05 SN: 5A1234E12345 MD:03/22/2017)"),
				sysOID("1.3.6.1.4.1.318.1.3.4.6"),
				num("1.3.6.1.4.1.318.1.1.26.2.1.3.1", 1),
			)},
			want: typing.Power, vendor: "APC",
		},
		{
			name: "APC NetBotz is an environment monitor",
			in: typing.Input{Evidence: evidence(
				descr("APC NetBotz Rack Monitor 250"),
				sysOID("1.3.6.1.4.1.5528.100.20.10.2014"),
			)},
			want: typing.Environment,
		},
		{
			name: "Axis camera",
			in: typing.Input{Evidence: evidence(
				descr("AXIS P3245-LV Network Camera 10.12.114 (2022)"),
				sysOID("1.3.6.1.4.1.368.1.1"), ifTypes(1, 1, 6),
			)},
			want: typing.Camera, vendor: "Axis",
		},
		{
			name: "Hikvision camera",
			in: typing.Input{Evidence: evidence(
				descr("Hikvision company products"),
				sysOID("1.3.6.1.4.1.39165.1.1"),
			)},
			want: typing.Camera,
		},
		{
			name: "Cisco Catalyst switch with ENTITY-MIB chassis",
			in: typing.Input{Evidence: evidence(
				descr("Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version 15.2(7)E3, RELEASE SOFTWARE (fc3)"),
				sysOID("1.3.6.1.4.1.9.1.1208"), services(2),
				gauge(snmp.OIDDot1dBaseNumPorts, 52), ifTypes(10101, 52, 6),
				num(snmp.OIDEntPhysicalClass+".1001", 3),
				str(snmp.OIDEntPhysicalModelName+".1001", "WS-C2960X-48FPD-L"),
				str(snmp.OIDEntPhysicalSerialNum+".1001", "FOC1234X0AB"),
			)},
			want: typing.Switch, vendor: "Cisco", model: "WS-C2960X-48FPD-L", serial: "FOC1234X0AB",
		},
		{
			name: "Cisco ISR router",
			in: typing.Input{Evidence: evidence(
				descr("Cisco IOS Software [Amsterdam], ISR Software (X86_64_LINUX_IOSD-UNIVERSALK9-M), Version 17.3.4a, RELEASE SOFTWARE (fc3)"),
				sysOID("1.3.6.1.4.1.9.1.2068"), services(78), num(snmp.OIDIPForwarding, 1),
				ifTypes(1, 4, 6), ifTypes(5, 2, 131),
			)},
			want: typing.Router,
		},
		{
			name: "Cisco ASA",
			in: typing.Input{Evidence: evidence(
				descr("Cisco Adaptive Security Appliance Version 9.16(3)19"),
				sysOID("1.3.6.1.4.1.9.1.2315"), num(snmp.OIDIPForwarding, 1), services(4),
			)},
			want: typing.Firewall,
		},
		{
			name: "FortiGate says nothing but its enterprise",
			in: typing.Input{Evidence: evidence(
				descr(""), sysOID("1.3.6.1.4.1.12356.101.1.60001"), ifTypes(1, 10, 6),
			)},
			want: typing.Firewall, vendor: "Fortinet",
		},
		{
			name: "FortiGate with many bridged ports is still a firewall",
			in: typing.Input{Evidence: evidence(
				descr(""), sysOID("1.3.6.1.4.1.12356.101.1.1004"),
				ifTypes(1, 18, 6), ifTypes(19, 4, 135), ifTypes(23, 2, 131),
				str(snmp.OIDDot1dBaseBridgeAddress, "\x00\x09\x0f\x09\x00\x01"),
				num(snmp.OIDDot1qVlanVersionNumber, 1),
				num(snmp.OIDIPForwarding, 1), services(78),
			)},
			want: typing.Firewall,
		},
		{
			name: "F5 BIG-IP on its Linux kernel",
			in: typing.Input{Evidence: evidence(
				descr("Linux bigip1 3.10.0-862.14.4.el7.ve.x86_64 #1 SMP Tue Jun 21 12:00:00 PDT 2022 x86_64"),
				sysOID("1.3.6.1.4.1.3375.2.1.3.4.43"), hostResources(0),
				str("1.3.6.1.4.1.3375.2.1.4.1.0", "BIG-IP"),
			)},
			want: typing.LoadBalancer,
		},
		{
			name: "Synology NAS on stock net-snmp",
			in: typing.Input{Evidence: evidence(
				descr("Linux nas 4.4.302+ #69057 SMP Fri Jan 12 17:02:28 CST 2024 x86_64"),
				sysOID("1.3.6.1.4.1.8072.3.2.10"), hostResources(0),
				str("1.3.6.1.4.1.6574.1.5.1.0", "DS920+"),
				str("1.3.6.1.4.1.6574.1.5.2.0", "2030PDN123456"),
			)},
			want: typing.Storage, vendor: "Synology", model: "DS920+", serial: "2030PDN123456",
		},
		{
			name: "Dell iDRAC",
			in: typing.Input{Evidence: evidence(
				descr("Linux idrac 4.9.x #1 SMP"), sysOID("1.3.6.1.4.1.674.10892.5"),
				str("1.3.6.1.4.1.674.10892.5.1.3.12.0", "PowerEdge R740"),
				str("1.3.6.1.4.1.674.10892.5.1.3.2.0", "ABC1234"),
			)},
			want: typing.Management, model: "PowerEdge R740", serial: "ABC1234",
		},
		{
			name: "HPE iLO",
			in: typing.Input{Evidence: evidence(
				descr("Integrated Lights-Out 5 2.72 Sep 04 2022"), sysOID("1.3.6.1.4.1.232.9.4.10"),
			)},
			want: typing.Management, vendor: "HPE",
		},
		{
			name: "Yealink desk phone",
			in: typing.Input{Evidence: evidence(
				descr("Yealink SIP-T46S 66.86.0.15"), sysOID("1.3.6.1.4.1.37459.2.1"),
			)},
			want: typing.Phone,
		},
		{
			name: "LLDP telephone capability, unknown maker",
			in: typing.Input{Evidence: evidence(
				descr("VoIP desk set"), sysOID("1.3.6.1.4.1.99991.1"),
				bits(snmp.OIDLldpLocSysCapEnabled, 0x24, 0x00), // bridge + telephone
			)},
			want: typing.Phone,
		},
		{
			name: "UniFi access point",
			in: typing.Input{Evidence: evidence(
				descr("UAP-AC-Pro-Gen2 6.5.62.14789"), sysOID("1.3.6.1.4.1.41112"),
				num("1.2.840.10036.1.1.1.9.5", 1), ifTypes(1, 2, 71),
			)},
			want: typing.Wireless, vendor: "Ubiquiti",
		},
		{
			name: "AKCP sensorProbe",
			in: typing.Input{Evidence: evidence(
				descr("sensorProbe2 SP2+ Ethernet Sensor"), sysOID("1.3.6.1.4.1.3854.1.2.2.1"),
			)},
			want: typing.Environment,
		},
		{
			name: "Eaton ePDU",
			in: typing.Input{Evidence: evidence(
				descr("Eaton ePDU MA 1P IN:C20 16A OUT:12xC13, 4xC19"), sysOID("1.3.6.1.4.1.534.6.6.7"),
			)},
			want: typing.Power,
		},
		{
			name: "NetApp filer",
			in: typing.Input{Evidence: evidence(
				descr("NetApp Release 9.8P6: Fri Jul 09 18:48:49 UTC 2021"), sysOID("1.3.6.1.4.1.789.2.5"),
			)},
			want: typing.Storage,
		},
		{
			name: "Juniper SRX calls itself a router but is a firewall",
			in: typing.Input{Evidence: evidence(
				descr("Juniper Networks, Inc. srx340 internet router, kernel JUNOS 21.2R3-S2.9"),
				sysOID("1.3.6.1.4.1.2636.1.1.1.2.135"),
			)},
			want: typing.Firewall, vendor: "Juniper",
		},
		{
			name: "Check Point gateway on its Linux kernel with Host Resources",
			in: typing.Input{Evidence: evidence(
				descr("Linux gw-01 3.10.0-957.21.3cpx86_64 #1 SMP Tue Jan 28 17:26:12 IST 2020 x86_64"),
				sysOID("1.3.6.1.4.1.2620.1.6.123.1.64"), hostResources(0),
			)},
			want: typing.Firewall,
		},
		{
			name: "pfSense on FreeBSD's agent",
			in: typing.Input{Evidence: evidence(
				descr("pfSense fw.example 2.7.2-RELEASE FreeBSD 14.0-CURRENT amd64"),
				sysOID("1.3.6.1.4.1.12325.1.1.2.1.1"), hostResources(0),
			)},
			want: typing.Firewall,
		},
		{
			name: "Cisco lightweight AP",
			in: typing.Input{Evidence: evidence(
				descr("Cisco AP Software, ap3g3-k9w8 Version: 8.10.185.0"),
				sysOID("1.3.6.1.4.1.9.1.2240"),
			)},
			want: typing.Wireless,
		},
		{
			name: "airOS radio answers the UBNT airMAX MIB",
			in: typing.Input{Evidence: evidence(
				descr("Linux 2.6.32.68 #1 Tue Dec 5 11:01:27 EET 2017 mips"),
				sysOID("1.3.6.1.4.1.10002.1"),
				num("1.3.6.1.4.1.41112.1.4.1.1.2.1", 5800),
			)},
			want: typing.Wireless, vendor: "Ubiquiti",
		},
		{
			name: "MikroTik router with Host Resources",
			in: typing.Input{Evidence: evidence(
				descr("RouterOS CCR2004-16G-2S+"), sysOID("1.3.6.1.4.1.14988.1"), hostResources(0),
			)},
			want: typing.Router, model: "CCR2004-16G-2S+",
		},
		{
			name: "HPE MSA array",
			in: typing.Input{Evidence: evidence(
				descr("HPE MSA 2060 Storage"), sysOID("1.3.6.1.4.1.11.10.2.1.3.25"),
			)},
			want: typing.Storage,
		},
		{
			name: "net-snmp host takes its maker from the MAC",
			in: typing.Input{Evidence: evidence(
				descr("Linux pi 6.1.21-v8+ #1642 SMP PREEMPT Mon Apr  3 17:24:16 BST 2023 aarch64"),
				sysOID("1.3.6.1.4.1.8072.3.2.10"),
			), MACVendor: "Raspberry Pi Trading Ltd"},
			want: typing.Server, vendor: "Raspberry Pi",
		},
		{
			name: "unlisted maker whose registry name says UPS",
			in: typing.Input{Evidence: evidence(
				descr("Network card v2.1"), sysOID("1.3.6.1.4.1.4030.1.1"),
			)},
			want: typing.Power, reasonPart: "Mitsubishi Electric Automation",
		},
		{
			name: "unlisted maker whose registry name says microwave",
			in: typing.Input{Evidence: evidence(
				sysOID("1.3.6.1.4.1.1757.2.1"),
			)},
			want: typing.Wireless,
		},
		{
			name: "unbranded L2 switch known only by its bridge",
			in: typing.Input{Evidence: evidence(
				sysOID("1.3.6.1.4.1.99992.1"), gauge(snmp.OIDDot1dBaseNumPorts, 24), ifTypes(1, 24, 6), services(2),
			)},
			want: typing.Switch,
		},
		{
			name: "unbranded router known by forwarding and layer 3",
			in: typing.Input{Evidence: evidence(
				sysOID("1.3.6.1.4.1.99993.1"), num(snmp.OIDIPForwarding, 1), services(6), ifTypes(1, 3, 6),
			)},
			want: typing.Router,
		},
		{
			name: "LLDP WLAN access point, unknown maker",
			in: typing.Input{Evidence: evidence(
				sysOID("1.3.6.1.4.1.99994.1"), bits(snmp.OIDLldpLocSysCapEnabled, 0x10, 0x00),
			)},
			want: typing.Wireless,
		},
		{
			name: "answers but fits nothing",
			in: typing.Input{Evidence: evidence(
				descr("Model 7 controller"), num(snmp.OIDSysUpTime, 5),
			)},
			want: typing.Other, reasonPart: "no rule fits",
		},
		{
			name: "unknown embedded device falls back on the base rate",
			in: typing.Input{Evidence: evidence(
				descr("Model 7 controller"), sysOID("1.3.6.1.4.1.99995.1"),
			)},
			want: typing.Switch, reasonPart: "most such devices are network equipment",
		},
		{
			name: "no SNMP at all",
			in:   typing.Input{MACVendor: "Apple, Inc."},
			want: typing.Unknown, vendor: "Apple",
		},
		{
			name: "empty evidence is no evidence",
			in:   typing.Input{Evidence: snmp.NewEvidence()},
			want: typing.Unknown,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := c.Classify(tc.in)
			if res.Category != tc.want {
				t.Fatalf("category %s, want %s; reasons: %s", res.Category, tc.want, strings.Join(res.Reasons, "; "))
			}
			if res.Confidence < 0 || res.Confidence > 1 {
				t.Errorf("confidence %v out of [0,1]", res.Confidence)
			}
			if tc.want != typing.Unknown && res.Confidence == 0 {
				t.Errorf("confidence 0 for a typed device")
			}
			if tc.vendor != "" && !strings.Contains(res.Vendor, tc.vendor) {
				t.Errorf("vendor %q, want it to contain %q", res.Vendor, tc.vendor)
			}
			if tc.model != "" && res.Model != tc.model {
				t.Errorf("model %q, want %q", res.Model, tc.model)
			}
			if tc.serial != "" && res.Serial != tc.serial {
				t.Errorf("serial %q, want %q", res.Serial, tc.serial)
			}
			if len(res.Reasons) == 0 {
				t.Errorf("no reasons")
			}
			if tc.reasonPart != "" && !strings.Contains(strings.Join(res.Reasons, "\n"), tc.reasonPart) {
				t.Errorf("reasons %q do not mention %q", res.Reasons, tc.reasonPart)
			}
		})
	}
}

func TestClassifyConcurrently(t *testing.T) {
	c, err := typing.New(typing.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ev := evidence(descr("Cisco IOS Software, C2960X Software"), sysOID("1.3.6.1.4.1.9.1.1208"), ifTypes(1, 24, 6))
	want := c.Classify(typing.Input{Evidence: ev})
	done := make(chan typing.Result)
	for i := 0; i < 8; i++ {
		go func() { done <- c.Classify(typing.Input{Evidence: ev}) }()
	}
	for i := 0; i < 8; i++ {
		if got := <-done; got.Category != want.Category || got.Confidence != want.Confidence {
			t.Errorf("concurrent result %+v differs from %+v", got, want)
		}
	}
}

func BenchmarkClassify(b *testing.B) {
	c, err := typing.New(typing.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ev := evidence(
		descr("Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version 15.2(7)E3"),
		sysOID("1.3.6.1.4.1.9.1.1208"), services(2), gauge(snmp.OIDDot1dBaseNumPorts, 52),
		ifTypes(1, 128, 6), num(snmp.OIDEntPhysicalClass+".1001", 3),
	)
	b.ResetTimer()
	for b.Loop() {
		c.Classify(typing.Input{Evidence: ev})
	}
}

// TestKnownSystemGroups types devices from their system group alone, as
// their makers document it: the commonest case on a network where a device
// answers little more than sysDescr and sysObjectID.
func TestKnownSystemGroups(t *testing.T) {
	c, err := typing.New(typing.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		descr, oid string
		want       []typing.Category
	}{
		{"Cisco NX-OS(tm) n9000, Software (n9000-dk9), Version 9.3(8), RELEASE SOFTWARE", "1.3.6.1.4.1.9.12.3.1.3.1812", sw},
		{"Cisco IOS XR Software (Cisco ASR9K Series),  Version 6.5.3[Default]", "1.3.6.1.4.1.9.1.1017", sw},
		{"Cisco Adaptive Security Appliance Version 9.12(4)", "1.3.6.1.4.1.9.1.2313", fw},
		{"Cisco Firepower Threat Defense, Version 7.0.1 (Build 84)", "1.3.6.1.4.1.9.1.2664", fw},
		{"Cisco Controller", "1.3.6.1.4.1.14179.1.1.4.3", wl},
		{"Juniper Networks, Inc. mx480 internet router, kernel JUNOS 20.4R3-S1.3", "1.3.6.1.4.1.2636.1.1.1.2.25", sw},
		{"Juniper Networks, Inc. ex2300-48p Ethernet Switch, kernel JUNOS 18.2R3-S2.9", "1.3.6.1.4.1.2636.1.1.1.2.132", sw},
		{"Arista Networks EOS version 4.27.3F running on an Arista Networks DCS-7050SX3-48YC8", "1.3.6.1.4.1.30065.1.3011.7050.3782.48", sw},
		{"HP J9773A 2530-24G-PoEP Switch, revision YA.16.10.0009, ROM YA.15.20 (/ws/swbuildm/rel_ukiah_qaoff/code/build/tam(swbuildm_rel_ukiah_qaoff_rel_ukiah))", "1.3.6.1.4.1.11.2.3.7.11.181", sw},
		{"Aruba JL661A 6300M 48G CL4 PoE 4SFP56 Swch FL.10.08.1010", "1.3.6.1.4.1.47196.4.1.1.1.103", sw},
		{"RouterOS RB4011iGS+", "1.3.6.1.4.1.14988.1", sw},
		{"EdgeOS v2.0.9-hotfix.6.5574651.221230.1015", "1.3.6.1.4.1.41112.1.5", sw},
		{"Dell EMC Networking OS10 Enterprise.", "1.3.6.1.4.1.674.11000.5000.100.2.1.7", sw},
		{"Moxa EDS-510A-3GT", "1.3.6.1.4.1.8691.7.6", sw},
		{"DrayTek Vigor2927 Series", "1.3.6.1.4.1.7367", sw},
		{"", "1.3.6.1.4.1.12356.101.1.60001", fw},
		{"Palo Alto Networks PA-220 series firewall", "1.3.6.1.4.1.25461.2.3.38", fw},
		{"SonicWALL TZ 370 (SonicOS 7.0.1-5030-R2007)", "1.3.6.1.4.1.8741.1", fw},
		{"BIG-IP 4000 : Linux 3.10.0-862.14.4.el7.ve.x86_64", "1.3.6.1.4.1.3375.2.1.3.4.76", lb},
		{"NetScaler NS13.0: Build 88.14.nc, Date: Nov 24 2022, 10:26:35   (64-bit)", "1.3.6.1.4.1.5951.1", lb},
		{"Brother NC-340h, Firmware Ver.1.03  (18.05.14),MID 8C5-J90,FID 2", "1.3.6.1.4.1.2435.2.3.9.1", pr},
		{"KYOCERA Document Solutions Printing System", "1.3.6.1.4.1.1347.41", pr},
		{"Lexmark MS812 version LW80.DN.P220 kernel 4.11.12 All-N-1", "1.3.6.1.4.1.641.2", pr},
		{"RICOH MP C3004 1.02 / RICOH Network Printer C model / RICOH Network Scanner C model", "1.3.6.1.4.1.367.1.1", pr},
		{"Xerox WorkCentre 7855 v1 Multifunction System; System Software 072.040.004.09100", "1.3.6.1.4.1.253.8.62.1.46.2.1.1", pr},
		{"Eaton 5PX 1500", "1.3.6.1.4.1.534.1", pw},
		{"Liebert GXT4", "1.3.6.1.4.1.476.1.42", pw},
		{"Sentry Switched CDU", "1.3.6.1.4.1.1718.3", pw},
		{"Raritan PX2 - Firmware Version 3.5.0.5-47219", "1.3.6.1.4.1.13742.6", pw},
		{"Geist Watchdog 15", "1.3.6.1.4.1.21239.5.1", env},
		{"Pure Storage FlashArray", "1.3.6.1.4.1.40482", st},
		{"Polycom VVX 450", "1.3.6.1.4.1.13885.1", ph},
		{"ArubaOS (MODEL: 7010), Version 8.6.0.4", "1.3.6.1.4.1.14823.1.1.36", wl},
		{"Ruckus Wireless ZD1200", "1.3.6.1.4.1.25053.3.1.5.15", wl},
		{"Cambium ePMP 3000", "1.3.6.1.4.1.17713.21", wl},
		{"Linux", "1.3.6.1.4.1.21317", []typing.Category{typing.Management}},
		{"Hardware: Intel64 Family 6 Model 85 - Software: Windows Version 6.3 (Build 17763 Multiprocessor Free)", "1.3.6.1.4.1.311.1.1.3.1.2", []typing.Category{typing.Server}},
		{"Huawei Versatile Routing Platform Software VRP (R) software, Version 5.160 (AR2200 V200R010C10SPC700) Copyright (C) 2011-2018 HUAWEI TECH CO., LTD Huawei AR2220", "1.3.6.1.4.1.2011.2.224.279", sw},
		{"H3C Comware Platform Software, Software Version 7.1.064, Release 0821P16 H3C S5130S-28S-EI", "1.3.6.1.4.1.25506.1.1523", sw},
		{"ZXR10 ROS Version V4.8.23 ZXR10 2928E", "1.3.6.1.4.1.3902.3.100.22", sw},
		{"ExtremeXOS (X440G2-48p-10G4) version 30.7.1.1 30.7.1.1-patch1-3 by release-manager on Mon Jun 1 2020", "1.3.6.1.4.1.1916.2.276", sw},
		{"Ruckus Wireless, Inc. ICX7150-48P, IronWare Version 08.0.95cT213", "1.3.6.1.4.1.1991.1.3.62.2.1.1.1", sw},
		{"JetStream 24-Port Gigabit L2 Managed Switch with 4 SFP Slots", "1.3.6.1.4.1.11863.5.62", sw},
		{"Mellanox MSN2700,Onyx,SWv3.9.1306", "1.3.6.1.4.1.33049.1.1.1.2700", sw},
		{"Meraki MS220-8P Cloud Managed Switch", "1.3.6.1.4.1.29671.2.68", sw},
		{"Dell EMC Unity 480", "1.3.6.1.4.1.1139.103.1.18.1", st},
		{"Quantum Scalar i3", "1.3.6.1.4.1.2036.2.1.1", st},
		{"CyberPower UPS Network Card RMCARD205", "1.3.6.1.4.1.3808.1.1.1", pw},
		{"AXIS Q6155-E PTZ Dome Network Camera 10.12.130", "1.3.6.1.4.1.368.4", []typing.Category{typing.Camera}},
		{"Yealink W70B 146.85.0.20", "1.3.6.1.4.1.37459.2.3", ph},
		{"Cisco SPA112 2 Port Phone Adapter", "1.3.6.1.4.1.9.1.1871", ph},
		{"Darwin MacBook-Pro.local 21.6.0 Darwin Kernel Version 21.6.0: Mon Aug 22 20:17:10 PDT 2022", "1.3.6.1.4.1.8072.3.2.16", []typing.Category{typing.Workstation}},
		{"FreeBSD fs1.example 13.2-RELEASE-p4 FreeBSD 13.2-RELEASE-p4 amd64", "1.3.6.1.4.1.8072.3.2.8", []typing.Category{typing.Server}},
	}
	for _, tc := range cases {
		res := c.Classify(typing.Input{Evidence: evidence(descr(tc.descr), sysOID(tc.oid))})
		ok := false
		for _, w := range tc.want {
			ok = ok || res.Category == w
		}
		if !ok {
			t.Errorf("%q (%s): got %s, want %v; %s", tc.descr, tc.oid, res.Category, tc.want, strings.Join(res.Reasons, "; "))
		}
	}
}

var (
	sw  = []typing.Category{typing.Switch, typing.Router}
	fw  = []typing.Category{typing.Firewall}
	wl  = []typing.Category{typing.Wireless}
	lb  = []typing.Category{typing.LoadBalancer}
	pr  = []typing.Category{typing.Printer}
	pw  = []typing.Category{typing.Power}
	env = []typing.Category{typing.Environment}
	st  = []typing.Category{typing.Storage}
	ph  = []typing.Category{typing.Phone}
)
