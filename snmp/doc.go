// Package snmp asks devices what they are. It owns SNMP v1/v2c/v3 sessions
// (through gosnmp), credential lists and the memory of which credential
// worked, bounded walks, the evidence plan gathered from every responder, and
// the snmprec recording format shared with snmpsim.
//
// Everything that reads SNMP data goes through Source, so the same evidence
// code runs against a live agent and against a recording. It must not know
// how hosts were found, how devices are typed, or where results are stored.
package snmp
