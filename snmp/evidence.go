package snmp

import (
	"context"
	"errors"
	"fmt"
	"sort"
)

// Evidence is what one device said in answer to a Plan: every variable it
// returned, keyed by OID, and which walks were cut short.
type Evidence struct {
	Vars      map[string]Var
	Truncated map[string]bool // walk roots that hit their row cap
	Errors    []string        // what failed while gathering, for the record
	Requests  int             // Get and Walk calls made
}

// NewEvidence returns empty Evidence.
func NewEvidence() *Evidence {
	return &Evidence{Vars: map[string]Var{}, Truncated: map[string]bool{}}
}

// Add records v if the agent returned a value for it.
func (e *Evidence) Add(v Var) {
	if v.Exists() {
		e.Vars[v.Name] = v
	}
}

// Get returns the variable named oid.
func (e *Evidence) Get(oid string) (Var, bool) {
	v, ok := e.Vars[oid]
	return v, ok
}

// Text returns oid's value as text, "" when absent.
func (e *Evidence) Text(oid string) string {
	if v, ok := e.Vars[oid]; ok {
		return v.Text()
	}
	return ""
}

// Number returns oid's numeric value.
func (e *Evidence) Number(oid string) (int64, bool) {
	if v, ok := e.Vars[oid]; ok {
		return v.Number()
	}
	return 0, false
}

// ObjectID returns oid's value when it is an OBJECT IDENTIFIER.
func (e *Evidence) ObjectID(oid string) string {
	if v, ok := e.Vars[oid]; ok && v.Kind == ObjectID {
		return v.OID
	}
	return ""
}

// Under returns the variables at or below root, in OID order.
func (e *Evidence) Under(root string) []Var {
	var out []Var
	for name, v := range e.Vars {
		if HasPrefix(name, root) {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return CompareOID(out[i].Name, out[j].Name) < 0 })
	return out
}

// Has reports whether any variable at or below root was returned.
func (e *Evidence) Has(root string) bool {
	if _, ok := e.Vars[root]; ok {
		return true
	}
	for name := range e.Vars {
		if HasPrefix(name, root) {
			return true
		}
	}
	return false
}

// Plan says what to read from a device: scalars fetched with Get, and
// subtrees walked up to a row cap each. Plans are cheap to gather: a few
// round trips per device.
type Plan struct {
	Scalars []string
	Walks   []PlanWalk
}

// PlanWalk is one bounded walk.
type PlanWalk struct {
	Root string
	Max  int // rows at most
	// Only, when set, gates the walk on a scalar of the plan having been
	// answered (so a printer table is not walked on a device with no
	// Printer-MIB). It names an OID in Scalars.
	Only string
}

// maxOIDsPerGet keeps Get requests small enough for old agents that answer
// tooBig to long variable lists.
const maxOIDsPerGet = 16

// Gather runs plan against src. It returns the evidence gathered so far
// together with the first error that stopped it; a device that stops
// answering mid-way therefore still yields what it said before.
func Gather(ctx context.Context, src Source, plan Plan) (*Evidence, error) {
	ev := NewEvidence()
	for start := 0; start < len(plan.Scalars); start += maxOIDsPerGet {
		chunk := plan.Scalars[start:min(start+maxOIDsPerGet, len(plan.Scalars))]
		ev.Requests++
		vars, err := src.Get(ctx, chunk)
		if err != nil {
			ev.Errors = append(ev.Errors, err.Error())
			return ev, fmt.Errorf("get %d scalars: %w", len(chunk), err)
		}
		for _, v := range vars {
			ev.Add(v)
		}
	}
	for _, w := range plan.Walks {
		if w.Only != "" {
			if _, ok := ev.Vars[w.Only]; !ok {
				continue
			}
		}
		ev.Requests++
		rows := 0
		err := src.Walk(ctx, w.Root, w.Max, func(v Var) error {
			rows++
			ev.Add(v)
			return nil
		})
		if w.Max > 0 && rows >= w.Max {
			ev.Truncated[w.Root] = true
		}
		if err != nil {
			ev.Errors = append(ev.Errors, fmt.Sprintf("walk %s: %v", w.Root, err))
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || IsUnreachable(err) {
				return ev, fmt.Errorf("walk %s: %w", w.Root, err)
			}
		}
	}
	return ev, nil
}

// ErrUnreachable marks errors meaning the agent no longer answers at all
// (timeouts, refused ports), as opposed to one table failing.
var ErrUnreachable = errors.New("agent does not answer")

// IsUnreachable reports whether err means the agent stopped answering.
func IsUnreachable(err error) bool { return errors.Is(err, ErrUnreachable) }
