package inventory

// TypeRuleStore is the store side of admin types (scaffold: filled in by its owner).
type TypeRuleStore interface{}
