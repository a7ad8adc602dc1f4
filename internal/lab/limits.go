package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// stateDir holds what must outlive one process: the global sysctls' original
// values and which labs hold them raised, and a record of every live lab so
// that one left behind by a killed process can be removed later.
const stateDir = "/run/lanscout-lab"

// globalLimits are the machine-wide settings a large lab needs raised (see
// docs/LAB.md): the neighbour table is shared by every namespace and stops
// answering ARP silently when full, and one broadcast flooded to hundreds of
// veth ports is hundreds of backlog enqueues at once.
var globalLimits = []sysctl{
	{"net.ipv4.neigh.default.gc_thresh2", "32768"},
	{"net.ipv4.neigh.default.gc_thresh3", "65536"},
	{"net.core.netdev_max_backlog", "10000"},
}

// owner identifies a process well enough to tell it from a later one that
// reused its PID.
type owner struct {
	PID   int    `json:"pid"`
	Start string `json:"start"` // field 22 of /proc/PID/stat
}

func self() owner {
	pid := os.Getpid()
	start, _ := procStart(pid)
	return owner{PID: pid, Start: start}
}

func procStart(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", err
	}
	// The command name (field 2) may hold spaces; fields after its closing
	// parenthesis are plain.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", fmt.Errorf("parse /proc/%d/stat", pid)
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 20 {
		return "", fmt.Errorf("parse /proc/%d/stat", pid)
	}
	return fields[19], nil // field 22 overall
}

func (o owner) alive() bool {
	start, err := procStart(o.PID)
	return err == nil && start == o.Start
}

type limitsState struct {
	Original map[string]string `json:"original"`
	Holders  map[string]owner  `json:"holders"` // by lab ID
}

// withStateLock runs fn holding an exclusive lock shared by every process
// that builds labs on this machine.
func withStateLock(fn func() error) error {
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", stateDir, err)
	}
	f, err := os.OpenFile(filepath.Join(stateDir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("open lab state lock: %w", err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		return fmt.Errorf("lock lab state: %w", err)
	}
	defer unix.Flock(int(f.Fd()), unix.LOCK_UN)
	return fn()
}

func limitsPath() string { return filepath.Join(stateDir, "limits.json") }

func loadLimits() (limitsState, error) {
	st := limitsState{Original: map[string]string{}, Holders: map[string]owner{}}
	b, err := os.ReadFile(limitsPath())
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("read %s: %w", limitsPath(), err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("parse %s: %w", limitsPath(), err)
	}
	if st.Original == nil {
		st.Original = map[string]string{}
	}
	if st.Holders == nil {
		st.Holders = map[string]owner{}
	}
	return st, nil
}

func saveLimits(st limitsState) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := limitsPath() + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	return os.Rename(tmp, limitsPath())
}

func readSysctl(key string) (string, error) {
	b, err := os.ReadFile(sysctlPath(key))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", key, err)
	}
	return strings.TrimSpace(string(b)), nil
}

func writeSysctl(key, value string) error {
	if err := os.WriteFile(sysctlPath(key), []byte(value), 0o644); err != nil {
		return fmt.Errorf("set %s=%s: %w", key, value, err)
	}
	return nil
}

// raiseLimits raises the global limits for lab id. The values in force
// before the first holder are recorded, and only the last holder to leave
// (see releaseLimits) puts them back: labs in concurrent test binaries
// would otherwise restore each other's raised values under each other.
func raiseLimits(id string) error {
	return withStateLock(func() error {
		st, err := loadLimits()
		if err != nil {
			return err
		}
		pruneHolders(&st)
		// With no live holder and no record, the current values are the
		// machine's own. With a record left by holders that died without
		// releasing, the record is still the truth.
		if len(st.Holders) == 0 && len(st.Original) == 0 {
			for _, s := range globalLimits {
				v, err := readSysctl(s.key)
				if err != nil {
					return err
				}
				st.Original[s.key] = v
			}
		}
		for _, s := range globalLimits {
			cur, err := readSysctl(s.key)
			if err != nil {
				return err
			}
			if atoi(cur) >= atoi(s.value) {
				continue
			}
			if err := writeSysctl(s.key, s.value); err != nil {
				return err
			}
		}
		st.Holders[id] = self()
		return saveLimits(st)
	})
}

// releaseLimits drops lab id's hold and restores the original values when
// no live lab holds them any more.
func releaseLimits(id string) error {
	return withStateLock(func() error {
		st, err := loadLimits()
		if err != nil {
			return err
		}
		delete(st.Holders, id)
		pruneHolders(&st)
		if len(st.Holders) > 0 {
			return saveLimits(st)
		}
		var errs []error
		for _, s := range globalLimits {
			if v, ok := st.Original[s.key]; ok {
				errs = append(errs, writeSysctl(s.key, v))
			}
		}
		if err := os.Remove(limitsPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
}

func pruneHolders(st *limitsState) {
	for id, o := range st.Holders {
		if !o.alive() {
			delete(st.Holders, id)
		}
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(s))
	return n
}
