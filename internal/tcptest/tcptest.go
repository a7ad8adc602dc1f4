// Package tcptest gives tests a TCP port to find on loopback. It owns
// nothing else.
package tcptest

import (
	"net"
	"testing"
)

// Listen accepts and closes connections on 127.0.0.1 until the test ends,
// and returns the port. Every other 127/8 address refuses that port, which
// a TCP sweep counts as alive just the same.
func Listen(t testing.TB) uint16 {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return uint16(ln.Addr().(*net.TCPAddr).Port)
}
