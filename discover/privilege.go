package discover

import (
	"errors"
	"fmt"
	"os"
)

// PrivilegeError is returned when a method needs a privilege the process
// lacks. Its message tells the admin how to grant it; errors.Is(err,
// os.ErrPermission) holds.
type PrivilegeError struct {
	Op    string // what needed it: "arp sweep on eth0", "icmp sweep", "passive listening on eth0"
	Needs string // "CAP_NET_RAW"
	Hint  string // extra ways out, "" for none
	Err   error  // the underlying error
}

func (e *PrivilegeError) Error() string {
	msg := fmt.Sprintf("%s needs %s: run as root, or grant it with \"sudo setcap cap_net_raw+ep $(which lanscout)\", or under systemd AmbientCapabilities=CAP_NET_RAW", e.Op, e.Needs)
	if e.Hint != "" {
		msg += ", " + e.Hint
	}
	if e.Err != nil {
		msg += " (" + e.Err.Error() + ")"
	}
	return msg
}

func (e *PrivilegeError) Unwrap() error { return e.Err }

// Is makes the error match os.ErrPermission even when the underlying
// error does not.
func (e *PrivilegeError) Is(target error) bool { return target == os.ErrPermission }

// needRaw wraps err in a PrivilegeError when it is a permission error.
func needRaw(op string, err error) error {
	if errors.Is(err, os.ErrPermission) {
		return &PrivilegeError{Op: op, Needs: "CAP_NET_RAW", Err: err}
	}
	return err
}
