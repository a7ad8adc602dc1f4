package inventory

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/lanscout/lanscout/typing"
)

// WebhookSource says where a webhook was defined: through the API and UI,
// or in the server's configuration file (which then owns it).
type WebhookSource string

// The webhook sources.
const (
	WebhookFromAPI    WebhookSource = "api"
	WebhookFromConfig WebhookSource = "config"
)

// Webhook is an HTTP endpoint told about events. Its secret, which signs
// every delivery, is write-only: nothing but WebhookSecret returns it.
type Webhook struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	URL  string `json:"url"`
	// Events are the event kinds sent (EventKind values and "wake.outcome");
	// empty sends every kind.
	Events    []string      `json:"events"`
	Enabled   bool          `json:"enabled"`
	Source    WebhookSource `json:"source"`
	HasSecret bool          `json:"has_secret"`
	Created   time.Time     `json:"created"`
	Updated   time.Time     `json:"updated"`
}

// EventWakeOutcome is the webhook kind of a wake's outcome, which is not
// in the device event log.
const EventWakeOutcome = "wake.outcome"

// WebhookEventKinds are the kinds a webhook may subscribe to.
var WebhookEventKinds = []string{string(EventNewDevice), string(EventGone), string(EventReturned),
	string(EventIPChanged), string(EventMACChanged), string(EventCategoryChanged), string(EventAgentLinked),
	EventWakeOutcome}

// Wants reports whether the webhook takes events of kind.
func (w Webhook) Wants(kind string) bool {
	if !w.Enabled {
		return false
	}
	if len(w.Events) == 0 {
		return true
	}
	for _, k := range w.Events {
		if k == kind {
			return true
		}
	}
	return false
}

// Validate checks a webhook before it is stored.
func (w Webhook) Validate() error {
	if n := strings.TrimSpace(w.Name); n == "" || len(n) > 64 {
		return fmt.Errorf("%w: webhook name must be 1 to 64 characters", ErrInvalid)
	}
	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: webhook url %q is not an http:// or https:// URL", ErrInvalid, w.URL)
	}
	if u.User != nil {
		return fmt.Errorf("%w: webhook url must not carry a user or password; use the secret", ErrInvalid)
	}
	for _, k := range w.Events {
		ok := false
		for _, v := range WebhookEventKinds {
			ok = ok || v == k
		}
		if !ok {
			return fmt.Errorf("%w: unknown event kind %q (want one of %s)", ErrInvalid, k, strings.Join(WebhookEventKinds, ", "))
		}
	}
	if w.Source != "" && w.Source != WebhookFromAPI && w.Source != WebhookFromConfig {
		return fmt.Errorf("%w: webhook source %q", ErrInvalid, w.Source)
	}
	return nil
}

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

// The delivery statuses: pending until the endpoint answers 2xx
// (delivered) or the attempts run out (failed).
const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliveryDelivered DeliveryStatus = "delivered"
	DeliveryFailed    DeliveryStatus = "failed"
)

// WebhookDelivery is one event to send to one webhook, with how sending
// it went so far.
type WebhookDelivery struct {
	ID          int64          `json:"id"`
	WebhookID   int64          `json:"webhook_id"`
	Webhook     string         `json:"webhook"` // its name
	Kind        string         `json:"kind"`
	EventID     int64          `json:"event_id,omitempty"`
	Body        string         `json:"body"`
	Status      DeliveryStatus `json:"status"`
	Attempts    int            `json:"attempts"`
	NextAttempt time.Time      `json:"next_attempt,omitzero"`
	LastCode    int            `json:"last_code,omitempty"`
	LastError   string         `json:"last_error,omitempty"`
	Created     time.Time      `json:"created"`
	Updated     time.Time      `json:"updated"`
}

// DeliveryAttempt is the outcome of one try.
type DeliveryAttempt struct {
	Status DeliveryStatus // pending to retry at Next
	Code   int            // HTTP status, 0 when none came back
	Error  string
	Next   time.Time
}

// DeliveryQuery selects deliveries, newest first. Zero fields do not
// filter.
type DeliveryQuery struct {
	WebhookID int64
	Status    DeliveryStatus
	Limit     int // default 100, at most 1000
}

// WebhookStore is the store side of monitoring: webhooks, their
// deliveries (persisted, so a restart resumes them) and the notifier's
// place in the event log, and the device counts /metrics reads (kept here
// rather than in DeviceStore so that monitoring owns what it asks for).
type WebhookStore interface {
	// PutWebhook creates (ID 0) or updates a webhook. secret nil keeps the
	// stored secret; "" removes it.
	PutWebhook(ctx context.Context, w Webhook, secret *string) (Webhook, error)
	DeleteWebhook(ctx context.Context, id int64) error
	Webhook(ctx context.Context, id int64) (Webhook, error)
	Webhooks(ctx context.Context) ([]Webhook, error)
	// WebhookSecret returns the secret in clear ("" when none), for the
	// code that signs deliveries and nothing else.
	WebhookSecret(ctx context.Context, id int64) (string, error)

	// WebhookEvents returns up to limit events with ids above afterID,
	// oldest first, whatever afterID is (EventQuery reads backwards when
	// AfterID is 0, which a follower starting at an empty log needs not).
	WebhookEvents(ctx context.Context, afterID int64, limit int) ([]Event, error)
	// WebhookCursor returns the id of the last event queued, -1 before the
	// notifier's first run.
	WebhookCursor(ctx context.Context) (int64, error)
	// QueueDeliveries stores deliveries and, when to >= 0, moves the
	// cursor from from to to in the same transaction: ErrConflict when it
	// is not at from, so two notifiers never queue an event twice.
	QueueDeliveries(ctx context.Context, ds []WebhookDelivery, from, to int64) ([]WebhookDelivery, error)
	// DueDeliveries returns pending deliveries due at now, oldest first.
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]WebhookDelivery, error)
	// FinishAttempt records one try of a delivery.
	FinishAttempt(ctx context.Context, id int64, a DeliveryAttempt) error
	WebhookDeliveries(ctx context.Context, q DeliveryQuery) ([]WebhookDelivery, error)
	// PendingDeliveries counts deliveries not yet delivered or failed.
	PendingDeliveries(ctx context.Context) (int, error)
	// PruneDeliveries deletes delivered and failed deliveries last touched
	// before before.
	PruneDeliveries(ctx context.Context, before time.Time) (int, error)

	// DeviceCounts counts devices by subnet, category and state, for
	// /metrics.
	DeviceCounts(ctx context.Context) ([]DeviceCount, error)
}

// DeviceCount is how many devices of a subnet are of a category and state.
type DeviceCount struct {
	SubnetID int64
	Category typing.Category
	State    DeviceState
	Count    int
}
