package inventory

// ElectionStore is the store side of the election (scaffold: filled in by its owner).
type ElectionStore interface{}
