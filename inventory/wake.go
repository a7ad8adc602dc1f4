package inventory

// WakeStore is the store side of Wake-on-LAN (scaffold: filled in by its owner).
type WakeStore interface{}
