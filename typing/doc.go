// Package typing decides what a device is: one of a fixed set of categories,
// with vendor, model, serial, a confidence and the reasons, from the SNMP
// evidence a device gave, its enterprise number and its MAC vendor. Built-in
// rules are data (embedded YAML built from standard MIBs, the IANA
// enterprise registry and vendors' documentation); admin-defined rules load
// from a file and win over them.
//
// It must not know how evidence was gathered (live agent or recording), how
// hosts were found, or where results are stored.
package typing
