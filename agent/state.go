package agent

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// stateFile holds the agent's identity and token in its state directory.
const stateFile = "agent.json"

// State is what the agent keeps between runs. The token is a secret: the
// file is written 0600 in a 0700 directory.
type State struct {
	UID           string `json:"uid"`
	Server        string `json:"server"`
	AgentID       int64  `json:"agent_id"`
	Token         string `json:"token"`
	InventoryHash string `json:"inventory_hash"` // of the inventory the server last accepted
}

// LoadState reads the state in dir; a missing file is an empty state.
func LoadState(dir string) (State, error) {
	p := filepath.Join(dir, stateFile)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return State{}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf("read agent state: %w", err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return State{}, fmt.Errorf("agent state %s: %w (remove it to enroll again)", p, err)
	}
	if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o077 != 0 {
		// A token others can read is as good as theirs; close it now.
		if err := os.Chmod(p, 0o600); err != nil {
			return State{}, fmt.Errorf("agent state %s is readable by others and cannot be fixed: %w", p, err)
		}
	}
	return st, nil
}

// SaveState writes st to dir atomically, 0600.
func SaveState(dir string, st State) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".agent-*.json")
	if err != nil {
		return fmt.Errorf("write agent state: %w", err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("write agent state: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("write agent state: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write agent state: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write agent state: %w", err)
	}
	if err := os.Rename(f.Name(), filepath.Join(dir, stateFile)); err != nil {
		return fmt.Errorf("write agent state: %w", err)
	}
	return nil
}

// newUID makes the agent's own id: random, kept in the state directory,
// so two agents on one machine (or cloned images) stay apart.
func newUID() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate agent id: %w", err)
	}
	return "lsagent-" + hex.EncodeToString(b), nil
}
