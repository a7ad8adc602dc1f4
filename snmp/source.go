package snmp

import "context"

// Source answers SNMP reads. A live agent session and a recording both
// implement it, so evidence gathering is the same code for both.
//
// A Source is used by one goroutine at a time.
type Source interface {
	// Get returns one Var per requested OID, in order. OIDs the agent does
	// not have come back with Kind NoSuchObject or NoSuchInstance.
	Get(ctx context.Context, oids []string) ([]Var, error)
	// Walk calls fn for each variable under root in OID order, stopping
	// after max variables (max <= 0: no limit other than the context).
	// A non-nil error from fn ends the walk and is returned.
	Walk(ctx context.Context, root string, max int, fn func(Var) error) error
}
