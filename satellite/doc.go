// Package satellite runs lanscout's work on hosts reached over SSH: waking
// machines and scanning subnets no agent sits in. It owns the SSH connection,
// host-key trust and command construction; it must not know the store or the
// web UI.
package satellite
