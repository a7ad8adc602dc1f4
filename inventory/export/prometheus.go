package export

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strconv"

	"github.com/lanscout/lanscout/typing"
)

// DefaultModule is snmp_exporter's own default module name, used for a
// category no setting names and that has no module of its own in
// CategoryModule.
const DefaultModule = "if_mib"

// CategoryModule is the module a category is polled with when the
// settings name none: a module of snmp_exporter's own snmp.yml (as of
// 0.30) that suits what such a device is, so that a printer's supplies
// and a UPS's battery are polled without configuration, not only their
// interfaces. Network gear, and whatever has no standard MIB of its own
// (cameras, phones, BMCs, unknown devices), gets DefaultModule, the
// interface counters every agent has. Vendor modules (apcups, dell, ...)
// are left to the settings: a category spans vendors.
func CategoryModule(cat typing.Category) string {
	switch cat {
	case typing.Printer:
		return "printer_mib" // RFC 3805 Printer-MIB: supplies, covers, alerts
	case typing.Power:
		return "ups_mib" // RFC 1628 UPS-MIB, which UPS cards of most vendors answer (snmp_exporter 0.30+)
	case typing.Server, typing.Storage, typing.Workstation:
		return "hrStorage" // HOST-RESOURCES-MIB storage: disks and memory
	}
	return DefaultModule
}

// AnyCategory in a credential module mapping applies to every category
// without its own entry.
const AnyCategory = "*"

// Prometheus says how devices become snmp_exporter targets.
type Prometheus struct {
	// Modules maps a category to the snmp_exporter module that polls it
	// (switches if_mib, printers a printer module, ...).
	Modules map[typing.Category]string `yaml:"modules" json:"modules"`
	// DefaultModule is the module of every category Modules leaves out;
	// "" means each category's CategoryModule.
	DefaultModule string `yaml:"default_module" json:"default_module"`
	// CredentialModules maps a category (or "*") and the name of the
	// lanscout credential that answered to a module. snmp_exporter before
	// 0.23 keeps the credentials inside each module, so a module must be
	// chosen per category and credential; an entry here wins over Modules.
	CredentialModules map[string]map[string]string `yaml:"credential_modules" json:"credential_modules"`
	// Auths maps a lanscout credential name to the snmp_exporter (0.23+)
	// auth name sent as __param_auth; a credential not listed is sent
	// under its own name. Only names: never a secret.
	Auths map[string]string `yaml:"auths" json:"auths"`
	// NoAuth leaves __param_auth out (snmp_exporter before 0.23 has no
	// auth parameter; it ignores it, but the label is noise there).
	NoAuth bool `yaml:"no_auth" json:"no_auth"`
	// SNMPPort is the port the devices answer SNMP on; targets carry it
	// as host:port when it is not 161.
	SNMPPort int `yaml:"snmp_port" json:"snmp_port"`
}

// Validate checks the mapping's names.
func (p Prometheus) Validate() error {
	for cat, m := range p.Modules {
		if !validCategory(string(cat)) {
			return fmt.Errorf("modules: unknown category %q", cat)
		}
		if m == "" {
			return fmt.Errorf("modules: category %s has an empty module name", cat)
		}
	}
	for cat, creds := range p.CredentialModules {
		if cat != AnyCategory && !validCategory(cat) {
			return fmt.Errorf("credential_modules: unknown category %q (or %q for all)", cat, AnyCategory)
		}
		for cred, m := range creds {
			if cred == "" || m == "" {
				return fmt.Errorf("credential_modules: %s: empty credential or module name", cat)
			}
		}
	}
	for cred, a := range p.Auths {
		if cred == "" || a == "" {
			return fmt.Errorf("auths: empty credential or auth name")
		}
	}
	if p.SNMPPort < 0 || p.SNMPPort > 65535 {
		return fmt.Errorf("snmp_port %d: want 1-65535", p.SNMPPort)
	}
	return nil
}

func validCategory(s string) bool {
	for _, c := range typing.Categories {
		if string(c) == s {
			return true
		}
	}
	return false
}

// Module returns the module for a device of category cat that answered
// with the credential named cred: a credential module, else the
// category's module, else the default module, else CategoryModule. A
// default_module set by an admin thus still covers every category it
// did before CategoryModule existed.
func (p Prometheus) Module(cat typing.Category, cred string) string {
	if cred != "" {
		if m := p.CredentialModules[string(cat)][cred]; m != "" {
			return m
		}
		if m := p.CredentialModules[AnyCategory][cred]; m != "" {
			return m
		}
	}
	if m := p.Modules[cat]; m != "" {
		return m
	}
	if p.DefaultModule != "" {
		return p.DefaultModule
	}
	return CategoryModule(cat)
}

// Auth returns the snmp_exporter auth name for a lanscout credential.
func (p Prometheus) Auth(cred string) string {
	if a := p.Auths[cred]; a != "" {
		return a
	}
	return cred
}

// TargetGroup is one entry of Prometheus's service discovery document.
type TargetGroup struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

// PrometheusTargets returns one target group per device that answered
// SNMP (others have nothing for snmp_exporter to poll), never nil.
func PrometheusTargets(hosts []Host, p Prometheus) []TargetGroup {
	out := []TargetGroup{}
	for _, h := range hosts {
		if h.SNMP == nil {
			continue
		}
		target := h.IP
		if p.SNMPPort != 0 && p.SNMPPort != 161 {
			if a, err := netip.ParseAddr(h.IP); err == nil {
				target = netip.AddrPortFrom(a, uint16(p.SNMPPort)).String()
			} else {
				target = h.IP + ":" + strconv.Itoa(p.SNMPPort)
			}
		}
		labels := map[string]string{
			"__param_module":    p.Module(h.Category, h.SNMP.Credential),
			"lanscout_category": string(h.Category),
			"lanscout_vendor":   h.Vendor,
			"lanscout_model":    h.Model,
			"lanscout_sys_name": h.SNMP.SysName,
			"lanscout_subnet":   h.Subnet.CIDR,
			"lanscout_site":     h.Subnet.Site,
			"lanscout_name":     h.Name,
		}
		if !p.NoAuth && h.SNMP.Credential != "" {
			labels["__param_auth"] = p.Auth(h.SNMP.Credential)
		}
		out = append(out, TargetGroup{Targets: []string{target}, Labels: labels})
	}
	return out
}

// WritePrometheus writes the service discovery JSON: "[]" when empty, as
// Prometheus requires.
func WritePrometheus(w io.Writer, hosts []Host, p Prometheus) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(PrometheusTargets(hosts, p)); err != nil {
		return fmt.Errorf("write prometheus targets: %w", err)
	}
	return nil
}
