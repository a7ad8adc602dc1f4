package lab

import (
	"context"
	"net"
)

// Do runs fn on an OS thread that has joined namespace ns (one of the
// lab's, by name). Sockets fn opens belong to that namespace and stay in
// it when used from other goroutines afterwards, so a test can open a
// listener or dial a connection in the lab and use it from anywhere. The
// thread is discarded when fn returns.
func (l *Lab) Do(ns string, fn func() error) error { return inNetns(ns, fn) }

// DialFrom returns a dial function, for an http.Transport or an SSH
// client, whose connections are opened inside namespace ns: the test
// process is not in the lab, so this is how it reaches a server there.
func (l *Lab) DialFrom(ns string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := l.Do(ns, func() error {
			var err error
			c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
}
