package web

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lanscout/lanscout/inventory"
)

// Webhook deliveries are signed so receivers can tell them from forgeries:
//
//	X-Lanscout-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//
// The timestamp is signed with the body so an old delivery cannot be
// replayed as new; receivers should refuse t older than a few minutes.
// X-Lanscout-Delivery carries the delivery id (the same on every retry,
// for de-duplication: delivery is at least once), X-Lanscout-Event the
// kind.
const (
	SignatureHeader = "X-Lanscout-Signature"
	DeliveryHeader  = "X-Lanscout-Delivery"
	EventHeader     = "X-Lanscout-Event"
)

// Sign returns the signature header value of body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifySignature checks a signature header against body and secret, and
// that its time is within maxAge of now. It is what a receiver written in
// Go would do, and what the tests check deliveries with.
func VerifySignature(secret, header string, body []byte, now time.Time, maxAge time.Duration) error {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return errors.New("malformed signature header")
	}
	want := Sign(secret, time.Unix(sec, 0), body)
	if !hmac.Equal([]byte(want), []byte("t="+ts+",v1="+sig)) {
		return errors.New("signature does not match")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > maxAge || d < -maxAge {
		return fmt.Errorf("signature time is %s away from now", d.Round(time.Second))
	}
	return nil
}

// WebhookConfig is a webhook defined in the server's configuration file.
// The file owns it: it is created or updated at start, and the API and UI
// may not change it.
type WebhookConfig struct {
	Name   string
	URL    string
	Secret string
	Events []string
}

// webhookBody is what a delivery posts. Fields are only ever added.
type webhookBody struct {
	Kind    string         `json:"kind"`
	EventID int64          `json:"event_id,omitempty"`
	At      time.Time      `json:"at"`
	Message string         `json:"message,omitempty"`
	Old     string         `json:"old,omitempty"`
	New     string         `json:"new,omitempty"`
	Device  *webhookDevice `json:"device,omitempty"`
	Subnet  *webhookSubnet `json:"subnet,omitempty"`
	Data    any            `json:"data,omitempty"`
}

type webhookDevice struct {
	ID       int64  `json:"id"`
	IP       string `json:"ip"`
	MAC      string `json:"mac"`
	Name     string `json:"name"`
	Category string `json:"category"`
	Vendor   string `json:"vendor"`
	Model    string `json:"model"`
	SysName  string `json:"sys_name"`
	State    string `json:"state"`
}

type webhookSubnet struct {
	ID   int64  `json:"id"`
	CIDR string `json:"cidr"`
	Name string `json:"name"`
	Site string `json:"site"`
}

// notifier turns events into deliveries and sends them. One goroutine
// follows the event log; each webhook has at most one sender at a time, so
// a slow or failing endpoint holds up only its own deliveries.
type notifier struct {
	s      *Server
	client *http.Client
	wake   chan struct{}

	mu   sync.Mutex
	busy map[int64]bool
}

func newNotifier(s *Server) *notifier {
	return &notifier{s: s, wake: make(chan struct{}, 1), busy: map[int64]bool{},
		client: &http.Client{Timeout: s.opts.Monitoring.WebhookTimeout,
			// A redirect would resend the signed body to wherever the
			// endpoint points; the admin configured this URL, not another.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (n *notifier) poke() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// run follows the event log and sends what is due until the server closes.
func (n *notifier) run(ctx context.Context) {
	t := time.NewTicker(n.s.opts.Monitoring.WebhookPoll)
	defer t.Stop()
	for {
		if err := n.follow(ctx); err != nil && ctx.Err() == nil {
			n.s.log.Error("webhooks: follow the event log", "err", err)
		}
		if err := n.dispatch(ctx); err != nil && ctx.Err() == nil {
			n.s.log.Error("webhooks: dispatch", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-n.wake:
		}
	}
}

// follow queues a delivery per event and interested webhook, moving the
// cursor in the same transaction, so an event is queued once even across
// a crash.
func (n *notifier) follow(ctx context.Context) error {
	s := n.s
	cur, err := s.store.WebhookCursor(ctx)
	if err != nil {
		return err
	}
	if cur < 0 {
		// First run: webhooks hear of what happens from now on, not of
		// the whole history.
		latest := int64(0)
		evs, err := s.store.Events(ctx, inventory.EventQuery{Limit: 1})
		if err != nil {
			return err
		}
		if len(evs) > 0 {
			latest = evs[0].ID
		}
		_, err = s.store.QueueDeliveries(ctx, nil, cur, latest)
		return err
	}
	for {
		evs, err := s.store.WebhookEvents(ctx, cur, 500)
		if err != nil || len(evs) == 0 {
			return err
		}
		hooks, err := s.store.Webhooks(ctx)
		if err != nil {
			return err
		}
		var ds []inventory.WebhookDelivery
		subnets := map[int64]*webhookSubnet{}
		for _, ev := range evs {
			var body []byte
			for _, h := range hooks {
				if !h.Wants(string(ev.Kind)) {
					continue
				}
				if body == nil {
					if body, err = n.eventBody(ctx, ev, subnets); err != nil {
						return err
					}
				}
				ds = append(ds, inventory.WebhookDelivery{WebhookID: h.ID, Kind: string(ev.Kind), EventID: ev.ID, Body: string(body)})
			}
		}
		last := evs[len(evs)-1].ID
		if _, err := s.store.QueueDeliveries(ctx, ds, cur, last); err != nil {
			return err
		}
		cur = last
		if len(evs) < 500 {
			return nil
		}
	}
}

func (n *notifier) eventBody(ctx context.Context, ev inventory.Event, subnets map[int64]*webhookSubnet) ([]byte, error) {
	b := webhookBody{Kind: string(ev.Kind), EventID: ev.ID, At: ev.At.UTC(), Message: ev.Message, Old: ev.Old, New: ev.New}
	if ev.DeviceID != 0 {
		d, err := n.s.store.Device(ctx, ev.DeviceID)
		switch {
		case err == nil:
			wd := &webhookDevice{ID: d.ID, IP: d.IP, MAC: d.MAC, Name: d.Name, Category: string(d.Category),
				Vendor: d.Vendor, Model: d.Model, State: string(d.State)}
			if d.SNMP != nil {
				wd.SysName = d.SNMP.SysName
			}
			b.Device = wd
		case !errors.Is(err, inventory.ErrNotFound): // deleted since: the event still goes out
			return nil, err
		}
	}
	if ev.SubnetID != 0 {
		if _, ok := subnets[ev.SubnetID]; !ok {
			sn, err := n.s.store.Subnet(ctx, ev.SubnetID)
			switch {
			case err == nil:
				subnets[ev.SubnetID] = &webhookSubnet{ID: sn.ID, CIDR: sn.CIDR, Name: sn.Name, Site: sn.Site}
			case errors.Is(err, inventory.ErrNotFound):
				subnets[ev.SubnetID] = nil
			default:
				return nil, err
			}
		}
		b.Subnet = subnets[ev.SubnetID]
	}
	return json.Marshal(b)
}

// emit queues an event from outside the log for every interested webhook.
func (n *notifier) emit(ctx context.Context, kind string, payload any) error {
	hooks, err := n.s.store.Webhooks(ctx)
	if err != nil {
		return err
	}
	var ds []inventory.WebhookDelivery
	var body []byte
	for _, h := range hooks {
		if !h.Wants(kind) {
			continue
		}
		if body == nil {
			if body, err = json.Marshal(webhookBody{Kind: kind, At: n.s.opts.Now().UTC(), Data: payload}); err != nil {
				return err
			}
		}
		ds = append(ds, inventory.WebhookDelivery{WebhookID: h.ID, Kind: kind, Body: string(body)})
	}
	if len(ds) == 0 {
		return nil
	}
	if _, err := n.s.store.QueueDeliveries(ctx, ds, 0, -1); err != nil {
		return err
	}
	n.poke()
	return nil
}

// EventPing is the kind of a test delivery an admin asks for; it goes to
// one webhook whatever events it takes.
const EventPing = "ping"

// ping queues a test delivery to one webhook.
func (n *notifier) ping(ctx context.Context, w inventory.Webhook, by string) (inventory.WebhookDelivery, error) {
	body, err := json.Marshal(webhookBody{Kind: EventPing, At: n.s.opts.Now().UTC(),
		Message: "test delivery from lanscout, asked for by " + by})
	if err != nil {
		return inventory.WebhookDelivery{}, err
	}
	ds, err := n.s.store.QueueDeliveries(ctx, []inventory.WebhookDelivery{{WebhookID: w.ID, Kind: EventPing, Body: string(body)}}, 0, -1)
	if err != nil {
		return inventory.WebhookDelivery{}, err
	}
	n.poke()
	return ds[0], nil
}

// dispatch starts a sender for every webhook with due deliveries and no
// sender running.
func (n *notifier) dispatch(ctx context.Context) error {
	due, err := n.s.store.DueDeliveries(ctx, n.s.opts.Now(), 500)
	if err != nil {
		return err
	}
	lanes := map[int64][]inventory.WebhookDelivery{}
	var order []int64
	for _, d := range due {
		if _, ok := lanes[d.WebhookID]; !ok {
			order = append(order, d.WebhookID)
		}
		lanes[d.WebhookID] = append(lanes[d.WebhookID], d)
	}
	for _, id := range order {
		n.mu.Lock()
		if n.busy[id] {
			n.mu.Unlock()
			continue
		}
		n.busy[id] = true
		n.mu.Unlock()
		ds := lanes[id]
		n.s.jobs.wg.Go(func() {
			defer func() {
				n.mu.Lock()
				delete(n.busy, id)
				n.mu.Unlock()
			}()
			n.sendLane(ctx, id, ds)
		})
	}
	return nil
}

// sendLane sends one webhook's due deliveries in order, stopping at the
// first failure: the endpoint is down, and the rest wait their turn.
func (n *notifier) sendLane(ctx context.Context, hookID int64, ds []inventory.WebhookDelivery) {
	s := n.s
	hook, err := s.store.Webhook(ctx, hookID)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("webhooks: load webhook", "id", hookID, "err", err)
		}
		return
	}
	secret, err := s.store.WebhookSecret(ctx, hookID)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("webhooks: open secret", "webhook", hook.Name, "err", err)
		}
		return
	}
	for _, d := range ds {
		if ctx.Err() != nil {
			return
		}
		a := n.attempt(ctx, hook, secret, d)
		if ctx.Err() != nil {
			return // shutting down: the attempt is not counted, it is redone at start
		}
		result := "retry"
		switch a.Status {
		case inventory.DeliveryDelivered:
			result = "delivered"
		case inventory.DeliveryFailed:
			result = "failed"
			s.log.Warn("webhook delivery failed for good", "webhook", hook.Name, "delivery", d.ID, "attempts", d.Attempts+1, "err", a.Error)
		}
		s.mon.metrics.webhooks.WithLabelValues(hook.Name, result).Inc()
		if err := s.store.FinishAttempt(context.WithoutCancel(ctx), d.ID, a); err != nil {
			s.log.Error("webhooks: record attempt", "delivery", d.ID, "err", err)
			return
		}
		if a.Status != inventory.DeliveryDelivered {
			return
		}
	}
}

// attempt posts one delivery and says what became of it.
func (n *notifier) attempt(ctx context.Context, hook inventory.Webhook, secret string, d inventory.WebhookDelivery) inventory.DeliveryAttempt {
	o := n.s.opts.Monitoring
	now := n.s.opts.Now()
	body := []byte(d.Body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.URL, bytes.NewReader(body))
	if err != nil {
		return inventory.DeliveryAttempt{Status: inventory.DeliveryFailed, Error: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "lanscout-webhook/1")
	req.Header.Set(DeliveryHeader, strconv.FormatInt(d.ID, 10))
	req.Header.Set(EventHeader, d.Kind)
	if secret != "" {
		req.Header.Set(SignatureHeader, Sign(secret, now, body))
	}
	a := inventory.DeliveryAttempt{}
	resp, err := n.client.Do(req)
	if err == nil {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		a.Code = resp.StatusCode
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			a.Status = inventory.DeliveryDelivered
			return a
		}
		a.Error = "HTTP " + resp.Status
	} else {
		a.Error = err.Error()
	}
	attempts := d.Attempts + 1
	if attempts >= o.WebhookMaxAttempts {
		a.Status = inventory.DeliveryFailed
		return a
	}
	a.Status = inventory.DeliveryPending
	a.Next = now.Add(backoff(o.WebhookRetryBase, attempts))
	return a
}

// backoff is base·2^(attempts-1), capped at an hour, with up to 10%
// jitter so that many deliveries failing together do not retry together.
func backoff(base time.Duration, attempts int) time.Duration {
	d := base
	for i := 1; i < attempts && d < time.Hour; i++ {
		d *= 2
	}
	d = min(d, time.Hour)
	return d + time.Duration(rand.Int64N(int64(d)/10+1))
}

// syncConfigWebhooks creates or updates the webhooks of the configuration
// file, and turns off config webhooks the file no longer names (their
// deliveries stay in the log).
func (s *Server) syncConfigWebhooks(ctx context.Context) error {
	existing, err := s.store.Webhooks(ctx)
	if err != nil {
		return err
	}
	byName := map[string]inventory.Webhook{}
	for _, w := range existing {
		byName[w.Name] = w
	}
	named := map[string]bool{}
	for _, c := range s.opts.Monitoring.Webhooks {
		named[c.Name] = true
		w := inventory.Webhook{Name: c.Name, URL: c.URL, Events: c.Events, Enabled: true, Source: inventory.WebhookFromConfig}
		if old, ok := byName[c.Name]; ok {
			if old.Source != inventory.WebhookFromConfig {
				return fmt.Errorf("webhook %q of the configuration file: one of that name was made through the API; rename one", c.Name)
			}
			w.ID = old.ID
		}
		secret := c.Secret
		if _, err := s.store.PutWebhook(ctx, w, &secret); err != nil {
			return fmt.Errorf("webhook %q of the configuration file: %w", c.Name, err)
		}
	}
	for _, w := range existing {
		if w.Source == inventory.WebhookFromConfig && !named[w.Name] && w.Enabled {
			w.Enabled = false
			if _, err := s.store.PutWebhook(ctx, w, nil); err != nil {
				return err
			}
			s.log.Info("webhook no longer in the configuration file: disabled", "webhook", w.Name)
		}
	}
	return nil
}
