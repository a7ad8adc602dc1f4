package inventory

// WebhookStore is the store side of webhooks (scaffold: filled in by its owner).
type WebhookStore interface{}
