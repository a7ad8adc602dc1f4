package lab

// Do runs fn on an OS thread that has joined namespace ns (one of the
// lab's, by name). Sockets fn opens belong to that namespace and stay in
// it when used from other goroutines afterwards, so a test can open a
// listener or dial a connection in the lab and use it from anywhere. The
// thread is discarded when fn returns.
func (l *Lab) Do(ns string, fn func() error) error { return inNetns(ns, fn) }
