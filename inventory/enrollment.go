package inventory

// EnrollmentStore is the store side of agents (scaffold: filled in by its owner).
type EnrollmentStore interface{}
