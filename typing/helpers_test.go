package typing_test

import (
	"github.com/lanscout/lanscout/snmp"
)

// Builders of synthetic evidence, so a test reads like an agent's answer.

func str(oid, s string) snmp.Var {
	return snmp.Var{Name: oid, Kind: snmp.OctetString, Bytes: []byte(s)}
}
func oidv(oid, v string) snmp.Var         { return snmp.Var{Name: oid, Kind: snmp.ObjectID, OID: v} }
func num(oid string, n int64) snmp.Var    { return snmp.Var{Name: oid, Kind: snmp.Integer, Int: n} }
func gauge(oid string, n uint64) snmp.Var { return snmp.Var{Name: oid, Kind: snmp.Gauge32, Uint: n} }
func bits(oid string, b ...byte) snmp.Var {
	return snmp.Var{Name: oid, Kind: snmp.OctetString, Bytes: b}
}

func descr(s string) snmp.Var   { return str(snmp.OIDSysDescr, s) }
func sysOID(s string) snmp.Var  { return oidv(snmp.OIDSysObjectID, s) }
func services(n int64) snmp.Var { return num(snmp.OIDSysServices, n) }

// ifTypes returns n interfaces of IANAifType t, indexed from first.
func ifTypes(first, n int, t int64) []snmp.Var {
	var out []snmp.Var
	for i := 0; i < n; i++ {
		out = append(out, num(snmp.OIDIfType+"."+itoa(first+i), t))
	}
	return out
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// evidence assembles vars, flattening slices.
func evidence(parts ...any) *snmp.Evidence {
	ev := snmp.NewEvidence()
	for _, p := range parts {
		switch v := p.(type) {
		case snmp.Var:
			ev.Add(v)
		case []snmp.Var:
			for _, x := range v {
				ev.Add(x)
			}
		}
	}
	return ev
}

// hostResources is what net-snmp and Windows agents answer for
// HOST-RESOURCES-MIB.
func hostResources(users int64) []snmp.Var {
	return []snmp.Var{
		{Name: snmp.OIDHrSystemUptime, Kind: snmp.TimeTicks, Uint: 123456},
		gauge(snmp.OIDHrSystemNumUsers, uint64(users)),
		gauge(snmp.OIDHrSystemProcesses, 213),
		num(snmp.OIDHrMemorySize, 16318412),
		oidv(snmp.OIDHrStorageType+".1", "1.3.6.1.2.1.25.2.1.2"),
		oidv(snmp.OIDHrStorageType+".31", "1.3.6.1.2.1.25.2.1.4"),
	}
}
