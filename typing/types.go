package typing

import (
	"net"

	"github.com/lanscout/lanscout/snmp"
)

// Category is what kind of device something is.
type Category string

// The categories, exactly. Unknown means there was no SNMP evidence; Other
// means there was evidence but it fits no category.
const (
	Router       Category = "router"
	Switch       Category = "switch"
	Firewall     Category = "firewall"
	Wireless     Category = "wireless"
	LoadBalancer Category = "loadbalancer"
	Printer      Category = "printer"
	Power        Category = "power"
	Storage      Category = "storage"
	Server       Category = "server"
	Workstation  Category = "workstation"
	Management   Category = "management"
	Phone        Category = "phone"
	Camera       Category = "camera"
	Environment  Category = "environment"
	Other        Category = "other"
	Unknown      Category = "unknown"
)

// Categories lists every category in a stable order.
var Categories = []Category{
	Router, Switch, Firewall, Wireless, LoadBalancer, Printer, Power, Storage,
	Server, Workstation, Management, Phone, Camera, Environment, Other, Unknown,
}

// Input is everything known about one device.
type Input struct {
	Evidence  *snmp.Evidence   // nil when the device did not answer SNMP
	MAC       net.HardwareAddr // nil when unknown
	MACVendor string           // IEEE registry name, "" when unknown
}

// Result is a classification.
type Result struct {
	Category   Category `json:"category"`
	Type       string   `json:"type,omitempty"` // an admin rule's own type name ("Label printer"), if one decided
	Vendor     string   `json:"vendor"`
	Model      string   `json:"model"`
	Serial     string   `json:"serial"`
	Confidence float64  `json:"confidence"` // 0..1
	Reasons    []string `json:"reasons"`    // plain words: the rules that fired and the evidence they used
}
