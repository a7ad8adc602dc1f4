// Package ocs speaks the wire protocol of OCS Inventory NG agents, so that
// agents already deployed on thousands of workstations can report to
// lanscout unchanged.
//
// It owns the bodies (zlib-compressed XML as the agents send it, also gzip
// and plain XML, with limits on the compressed size, the decoded size and
// the ratio between them, so that a zip bomb is refused before it is
// inflated), the requests (PROLOG, INVENTORY and any other QUERY, with the
// sections lanscout models decoded and every other section kept verbatim),
// the replies (root <REPLY>, compressed the way the request was), and the
// identity checks OCS servers make: the DEVICEID format and the known
// User-Agent families.
//
// It must not know HTTP handlers, the store, the election or how lanscout
// models a machine: package web maps what it decodes onto the inventory.
//
// # What real agents do
//
// Debian's ocsinventory-agent 2.10.0 POSTs zlib streams (RFC 1950, first
// bytes 78 9c) whatever its Content-Type says, and reads the reply as a
// zlib stream whatever ours says. It needs at least one attribute on the
// IPDISCOVER option's <PARAM> (see [IPDiscoverOption]) and, told to scan,
// sweeps the subnet of its default-route interface rather than the one it
// was named. Messages captured from it are the golden files in testdata.
package ocs
