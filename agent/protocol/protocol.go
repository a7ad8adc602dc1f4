// Package protocol is the wire contract between lanscout agents and the
// server: the JSON documents an agent sends (hello, inventory, task
// results) and the tasks the server hands out. Both sides import it; it
// knows nothing of HTTP handlers, the store or how tasks are carried out.
//
// (Scaffold: the agents owner extends it; the task kinds and the wake
// payload below are the contract the Wake-on-LAN side builds on.)
package protocol

import "time"

// TaskKind names what a task asks an agent to do.
type TaskKind string

// The task kinds.
const (
	TaskScan   TaskKind = "scan"
	TaskWake   TaskKind = "wake"
	TaskListen TaskKind = "listen"
)

// Task is one unit of work for an agent. ID makes uploads idempotent.
type Task struct {
	ID       string    `json:"id"`
	Kind     TaskKind  `json:"kind"`
	Deadline time.Time `json:"deadline,omitzero"`
	Wake     *WakeTask `json:"wake,omitempty"`
}

// WakeTask asks an agent to send magic packets inside its own subnet.
type WakeTask struct {
	MACs []string `json:"macs"`
	// Subnet is the target subnet (CIDR); the agent sends on the interface
	// holding an address in it, raw Ethernet when it may, else UDP to the
	// subnet's directed broadcast.
	Subnet   string `json:"subnet"`
	Ports    []int  `json:"ports,omitempty"`    // UDP ports, default 9 and 7
	Password string `json:"password,omitempty"` // SecureOn, hex MAC-like form
}

// TaskResult is what an agent uploads when a task ends.
type TaskResult struct {
	TaskID   string      `json:"task_id"`
	Error    string      `json:"error,omitempty"` // the task failed as a whole
	Finished time.Time   `json:"finished"`
	Wake     *WakeResult `json:"wake,omitempty"`
}

// WakeResult says, per MAC, how each packet went.
type WakeResult struct {
	Sent []WakeSent `json:"sent"`
}

// WakeSent is the outcome for one MAC.
type WakeSent struct {
	MAC    string `json:"mac"`
	Method string `json:"method"` // "raw" or "udp"
	Error  string `json:"error,omitempty"`
}
