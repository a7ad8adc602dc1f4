// Package scan is the one scan pipeline that the CLI, the server, agents and
// satellites all run: discover who is there, ask each responder over SNMP
// what it is, classify it, and report devices as they are identified.
//
// It owns the order of those steps, their concurrency and the shape of a
// scan report (the JSON field names are a public contract, documented in
// README). It must not know where reports are stored or who asked for them.
package scan
