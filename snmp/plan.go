package snmp

// Well-known OIDs of the default plan. They are exported because the
// classifier reads the same objects the plan asks for.
const (
	// SNMPv2-MIB system group (RFC 3418).
	OIDSysDescr    = "1.3.6.1.2.1.1.1.0"
	OIDSysObjectID = "1.3.6.1.2.1.1.2.0"
	OIDSysUpTime   = "1.3.6.1.2.1.1.3.0"
	OIDSysContact  = "1.3.6.1.2.1.1.4.0"
	OIDSysName     = "1.3.6.1.2.1.1.5.0"
	OIDSysLocation = "1.3.6.1.2.1.1.6.0"
	OIDSysServices = "1.3.6.1.2.1.1.7.0"
	OIDSysORID     = "1.3.6.1.2.1.1.9.1.2" // column

	// IF-MIB (RFC 2863) and IP-MIB (RFC 4293).
	OIDIfNumber     = "1.3.6.1.2.1.2.1.0"
	OIDIfType       = "1.3.6.1.2.1.2.2.1.3" // column, IANAifType values
	OIDIPForwarding = "1.3.6.1.2.1.4.1.0"   // 1 forwarding (router), 2 notForwarding (host)

	// BRIDGE-MIB (RFC 4188).
	OIDDot1dBaseBridgeAddress = "1.3.6.1.2.1.17.1.1.0"
	OIDDot1dBaseNumPorts      = "1.3.6.1.2.1.17.1.2.0"
	OIDDot1dBaseType          = "1.3.6.1.2.1.17.1.3.0"

	// Q-BRIDGE-MIB (RFC 4363) dot1qVlanVersionNumber: a VLAN-aware bridge.
	OIDDot1qVlanVersionNumber = "1.3.6.1.2.1.17.7.1.1.1.0"

	// HOST-RESOURCES-MIB (RFC 2790).
	OIDHrSystemUptime       = "1.3.6.1.2.1.25.1.1.0"
	OIDHrSystemNumUsers     = "1.3.6.1.2.1.25.1.5.0"
	OIDHrSystemProcesses    = "1.3.6.1.2.1.25.1.6.0"
	OIDHrSystemMaxProcesses = "1.3.6.1.2.1.25.1.7.0"
	OIDHrMemorySize         = "1.3.6.1.2.1.25.2.2.0"
	OIDHrStorageType        = "1.3.6.1.2.1.25.2.3.1.2" // column
	OIDHrDeviceType         = "1.3.6.1.2.1.25.3.2.1.2" // column, hrDeviceTypes under 1.3.6.1.2.1.25.3.1
	OIDHrDeviceDescr        = "1.3.6.1.2.1.25.3.2.1.3" // column

	// Printer-MIB (RFC 3805); the tables are indexed by hrDeviceIndex,
	// which is 1 on nearly every printer.
	OIDPrinterMIB             = "1.3.6.1.2.1.43"
	OIDPrtGeneralPrinterName  = "1.3.6.1.2.1.43.5.1.1.16" // column
	OIDPrtGeneralSerialNumber = "1.3.6.1.2.1.43.5.1.1.17" // column

	// UPS-MIB (RFC 1628).
	OIDUpsIdentManufacturer = "1.3.6.1.2.1.33.1.1.1.0"
	OIDUpsIdentModel        = "1.3.6.1.2.1.33.1.1.2.0"
	OIDUpsBatteryStatus     = "1.3.6.1.2.1.33.1.2.1.0" // mandatory, so present on every UPS-MIB agent
	OIDUpsOutputSource      = "1.3.6.1.2.1.33.1.4.1.0" // mandatory too

	// ENTITY-MIB (RFC 6933) entPhysicalTable columns.
	OIDEntPhysicalDescr       = "1.3.6.1.2.1.47.1.1.1.1.2"
	OIDEntPhysicalVendorType  = "1.3.6.1.2.1.47.1.1.1.1.3"
	OIDEntPhysicalClass       = "1.3.6.1.2.1.47.1.1.1.1.5" // 3 chassis
	OIDEntPhysicalName        = "1.3.6.1.2.1.47.1.1.1.1.7"
	OIDEntPhysicalHardwareRev = "1.3.6.1.2.1.47.1.1.1.1.8"
	OIDEntPhysicalFirmwareRev = "1.3.6.1.2.1.47.1.1.1.1.9"
	OIDEntPhysicalSoftwareRev = "1.3.6.1.2.1.47.1.1.1.1.10"
	OIDEntPhysicalSerialNum   = "1.3.6.1.2.1.47.1.1.1.1.11"
	OIDEntPhysicalMfgName     = "1.3.6.1.2.1.47.1.1.1.1.12"
	OIDEntPhysicalModelName   = "1.3.6.1.2.1.47.1.1.1.1.13"

	// ENTITY-SENSOR-MIB (RFC 3433) entPhySensorType column.
	OIDEntPhySensorType = "1.3.6.1.2.1.99.1.1.1.1"

	// LLDP-MIB (IEEE 802.1AB) local system capabilities, BITS.
	OIDLldpLocSysCapSupported = "1.0.8802.1.1.2.1.3.5.0"
	OIDLldpLocSysCapEnabled   = "1.0.8802.1.1.2.1.3.6.0"

	// IEEE802dot11-MIB: any object at all means a radio.
	OIDDot11 = "1.2.840.10036"

	// SYSAPPL-MIB (RFC 2287) sysApplInstallPkgProductName column: the
	// names of installed application packages (appliances list themselves).
	OIDSysApplInstallPkgProductName = "1.3.6.1.2.1.54.1.1.1.1.3"

	// DOCS-CABLE-DEVICE-MIB (RFC 4639) docsDevRole: a cable modem.
	OIDDocsDevRole = "1.3.6.1.2.1.69.1.1.1.0"

	// The enterprises subtree.
	OIDEnterprises = "1.3.6.1.4.1"
)

// Row caps. Each walk is one GETBULK or a few; the caps keep a chassis with
// thousands of entities or a router with thousands of interfaces cheap.
const (
	maxIfRows      = 128
	maxEntityRows  = 64
	maxSmallTable  = 32
	maxPresence    = 1
	maxVendorProbe = 4
)

// entityChassisColumns are read for the chassis row found by the walk of
// entPhysicalClass: the same columns the Gets ask at index 1, so a chassis
// at index 1 costs no further request.
var entityChassisColumns = []string{
	OIDEntPhysicalDescr, OIDEntPhysicalSoftwareRev,
	OIDEntPhysicalSerialNum, OIDEntPhysicalMfgName, OIDEntPhysicalModelName,
}

// DefaultPlan returns the evidence every responder is asked for. It costs a
// handful of round trips: 2 Gets of 16 scalars; one more Get of a
// vendor's identity objects for a few vendors (and for stock net-snmp
// agents, behind which appliances hide); 6 walks every
// device answers (sysORID, ifType, entPhysicalClass, Printer-MIB presence,
// IEEE 802.11 presence, entPhySensorType), each one GETBULK except ifType
// on devices with more than one response's worth of interfaces; 3 walks
// only for Host-Resources hosts, 3 only for printers; one Get for the
// ENTITY-MIB chassis row; and a single-response probe of the vendor's own
// subtree for APC and Ubiquiti devices. About 10 requests per device.
//
// A fresh slice is returned on every call, so callers may extend it.
func DefaultPlan() Plan {
	scalars := []string{
		// Get 1: identity and the cheap structural hints.
		OIDSysDescr, OIDSysObjectID, OIDSysUpTime, OIDSysContact,
		OIDSysName, OIDSysLocation, OIDSysServices, OIDUpsOutputSource,
		OIDIfNumber, OIDIPForwarding,
		OIDDot1dBaseBridgeAddress, OIDDot1dBaseNumPorts, OIDDot1dBaseType,
		OIDLldpLocSysCapSupported, OIDLldpLocSysCapEnabled, OIDDocsDevRole,

		// Get 2: hosts, UPSes, printers and chassis at their usual index 1.
		OIDHrSystemUptime, OIDHrSystemNumUsers, OIDHrSystemProcesses,
		OIDHrMemorySize, OIDDot1qVlanVersionNumber,
		OIDUpsIdentManufacturer, OIDUpsIdentModel, OIDUpsBatteryStatus,
		OIDPrtGeneralPrinterName + ".1", OIDPrtGeneralSerialNumber + ".1",
		OIDEntPhysicalClass + ".1", OIDEntPhysicalDescr + ".1",
		OIDEntPhysicalModelName + ".1", OIDEntPhysicalSerialNum + ".1",
		OIDEntPhysicalMfgName + ".1", OIDEntPhysicalSoftwareRev + ".1",
	}
	walks := []PlanWalk{
		{Root: OIDSysORID, Max: maxSmallTable},
		{Root: OIDIfType, Max: maxIfRows},
		{Root: OIDHrDeviceType, Max: maxSmallTable, Only: OIDHrSystemUptime},
		{Root: OIDHrStorageType, Max: maxSmallTable / 2, Only: OIDHrSystemUptime},
		{Root: OIDEntPhysicalClass, Max: maxEntityRows},
		// Printer-MIB presence: the first objects of the MIB, whatever
		// the printer's hrDeviceIndex.
		{Root: OIDPrinterMIB, Max: 4},
		{Root: OIDPrtGeneralPrinterName, Max: 2, Gate: WalkGate{Has: OIDPrinterMIB}},
		{Root: OIDPrtGeneralSerialNumber, Max: 2, Gate: WalkGate{Has: OIDPrinterMIB}},
		{Root: OIDHrDeviceDescr, Max: 4, Gate: WalkGate{Has: OIDPrinterMIB}},
		{Root: OIDDot11, Max: maxPresence},
		{Root: OIDEntPhySensorType, Max: 16},
		// Installed packages: only hosts keep such a table.
		{Root: OIDSysApplInstallPkgProductName, Max: 16, Only: OIDHrSystemUptime},
	}
	walks = append(walks, vendorWalks...)
	return Plan{
		Scalars: scalars,
		Gets:    vendorGets(),
		Walks:   walks,
		Rows: []PlanRows{{
			Column: OIDEntPhysicalClass, Equals: 3, MaxRows: 1,
			Columns: entityChassisColumns,
		}},
	}
}

// vendorGets are identity objects from vendors' published MIBs, asked only
// of that vendor's devices (one Get each): they separate families that share
// one sysObjectID, or that answer with the stock net-snmp one.
func vendorGets() []PlanGet {
	under := func(root string) WalkGate { return WalkGate{ObjectIDUnder: root} }
	return []PlanGet{
		{Gate: under("1.3.6.1.4.1.8072"), OIDs: []string{
			"1.3.6.1.4.1.6574.1.5.1.0", // SYNOLOGY-SYSTEM-MIB modelName
			"1.3.6.1.4.1.6574.1.5.2.0", // SYNOLOGY-SYSTEM-MIB serialNumber
			// The next four were read from devices of these makers; their
			// MIB files were not at hand, so the rules use only their
			// presence (and the Teltonika product code as the model).
			"1.3.6.1.4.1.14125.2.1.1.6.0", // EnGenius (Senao) access point MIB
			"1.3.6.1.4.1.6894.2.30.0",     // DataDirect Networks storage MIB
			"1.3.6.1.4.1.32015.0.0",       // ExtraHop appliance MIB
			"1.3.6.1.4.1.48690.1.8.0",     // Teltonika router MIB, product code
		}},
		{Gate: under("1.3.6.1.4.1.318"), OIDs: []string{
			"1.3.6.1.4.1.318.1.1.1.1.1.1.0", // PowerNet-MIB upsBasicIdentModel
			"1.3.6.1.4.1.318.1.1.1.1.2.3.0", // PowerNet-MIB upsAdvIdentSerialNumber
		}},
		{Gate: under("1.3.6.1.4.1.674"), OIDs: []string{
			"1.3.6.1.4.1.674.10892.5.1.3.12.0", // IDRAC-MIB systemModelName (iDRAC 7+)
			"1.3.6.1.4.1.674.10892.5.1.3.2.0",  // IDRAC-MIB systemServiceTag
		}},
		{Gate: under("1.3.6.1.4.1.232"), OIDs: []string{
			"1.3.6.1.4.1.232.2.2.4.2.0", // CPQSINFO-MIB cpqSiProductName
			"1.3.6.1.4.1.232.2.2.2.1.0", // CPQSINFO-MIB cpqSiSysSerialNum
		}},
		{Gate: under("1.3.6.1.4.1.6876"), OIDs: []string{
			"1.3.6.1.4.1.6876.1.1.0", // VMWARE-SYSTEM-MIB vmwProdName
		}},
		{Gate: under("1.3.6.1.4.1.5951"), OIDs: []string{
			"1.3.6.1.4.1.5951.4.1.1.1.0", // NS-ROOT-MIB sysBuildVersion
		}},
		{Gate: under("1.3.6.1.4.1.3375"), OIDs: []string{
			"1.3.6.1.4.1.3375.2.1.4.1.0", // F5-BIGIP-SYSTEM-MIB sysProductName
		}},
	}
}

// vendorWalks read the first rows of a vendor's subtree, only on that
// vendor's devices: the branches tell product lines apart where the vendor
// uses one sysObjectID for several.
var vendorWalks = []PlanWalk{
	// APC PowerNet-MIB: ups(1.1.1), rPDU(1.1.12), rPDU2(1.1.26),
	// environmental monitors (1.1.10 emu, 1.1.25 uio), cooling (1.1.13).
	{Root: "1.3.6.1.4.1.318.1.1", Max: maxVendorProbe, Gate: WalkGate{ObjectIDUnder: "1.3.6.1.4.1.318"}},
	// Ubiquiti UBNT-MIB: airFiber (41112.1.3), airMAX (1.4), EdgeMAX and
	// EdgePower (1.5), UniFi (1.6). airOS radios and EdgePower report the
	// old Frogfoot sysObjectID 10002.1.
	{Root: "1.3.6.1.4.1.41112.1", Max: 2, Gate: WalkGate{ObjectIDUnder: "1.3.6.1.4.1.41112"}},
	{Root: "1.3.6.1.4.1.41112.1", Max: 2, Gate: WalkGate{ObjectIDUnder: "1.3.6.1.4.1.10002"}},
}
