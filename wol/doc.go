// Package wol sends Wake-on-LAN magic packets. It owns the packet format and
// the ways of putting it on a wire (raw Ethernet, UDP broadcast); it must not
// know how a wake was routed to the sender or who asked for it.
package wol
