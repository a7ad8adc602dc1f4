package inventory

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

func TestWebhookStore(t *testing.T) {
	s, clk, _ := openTest(t)
	ctx := context.Background()
	for _, bad := range []Webhook{
		{Name: "", URL: "https://x"},
		{Name: "a", URL: "ftp://x"},
		{Name: "a", URL: "https://user:pw@x"},
		{Name: "a", URL: "https://x", Events: []string{"coffee"}},
	} {
		if _, err := s.PutWebhook(ctx, bad, nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", bad, err)
		}
	}
	secret := "hook secret 1"
	w, err := s.PutWebhook(ctx, Webhook{Name: "chat", URL: "https://chat.example/h", Enabled: true, Events: []string{"gone"}}, &secret)
	if err != nil {
		t.Fatal(err)
	}
	if !w.HasSecret || w.Source != WebhookFromAPI || !w.Wants("gone") || w.Wants("new_device") {
		t.Errorf("stored %+v", w)
	}
	if _, err := s.PutWebhook(ctx, Webhook{Name: "chat", URL: "https://other"}, nil); !errors.Is(err, ErrConflict) {
		t.Errorf("duplicate name: %v", err)
	}
	// Sealed at rest: the clear secret is nowhere in the row.
	var raw []byte
	if err := s.r.QueryRowContext(ctx, `SELECT secret FROM webhooks WHERE id = ?`, w.ID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if len(raw) == 0 || bytes.Contains(raw, []byte(secret)) {
		t.Errorf("secret column %q", raw)
	}
	if got, err := s.WebhookSecret(ctx, w.ID); err != nil || got != secret {
		t.Errorf("WebhookSecret: %q %v", got, err)
	}
	// nil keeps the secret, "" removes it.
	w.URL = "https://chat.example/h2"
	if w, err = s.PutWebhook(ctx, w, nil); err != nil || !w.HasSecret || w.URL != "https://chat.example/h2" {
		t.Errorf("update keeping the secret: %+v %v", w, err)
	}
	empty := ""
	if w, err = s.PutWebhook(ctx, w, &empty); err != nil || w.HasSecret {
		t.Errorf("update removing the secret: %+v %v", w, err)
	}

	// The cursor starts unset and moves only from where it is.
	if cur, err := s.WebhookCursor(ctx); err != nil || cur != -1 {
		t.Fatalf("cursor %d %v, want -1", cur, err)
	}
	if _, err := s.QueueDeliveries(ctx, nil, -1, 0); err != nil {
		t.Fatal(err)
	}
	ds, err := s.QueueDeliveries(ctx, []WebhookDelivery{{WebhookID: w.ID, Kind: "gone", EventID: 7, Body: `{"kind":"gone"}`}}, 0, 7)
	if err != nil || len(ds) != 1 || ds[0].Webhook != "chat" || ds[0].Status != DeliveryPending {
		t.Fatalf("queue: %+v %v", ds, err)
	}
	if _, err := s.QueueDeliveries(ctx, []WebhookDelivery{{WebhookID: w.ID, Kind: "gone", Body: "{}"}}, 0, 8); !errors.Is(err, ErrConflict) {
		t.Errorf("a stale cursor queued: %v", err)
	}
	if n, _ := s.PendingDeliveries(ctx); n != 1 {
		t.Errorf("%d pending after a refused queue, want 1", n)
	}

	// Due now; after a failed try, due again only at its next time.
	due, err := s.DueDeliveries(ctx, clk.Now(), 10)
	if err != nil || len(due) != 1 {
		t.Fatalf("due: %+v %v", due, err)
	}
	next := clk.Now().Add(time.Minute)
	if err := s.FinishAttempt(ctx, due[0].ID, DeliveryAttempt{Status: DeliveryPending, Code: 503, Error: "HTTP 503", Next: next}); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DueDeliveries(ctx, clk.Now(), 10); len(due) != 0 {
		t.Errorf("due again before its retry time: %+v", due)
	}
	if due, _ := s.DueDeliveries(ctx, next, 10); len(due) != 1 || due[0].Attempts != 1 || due[0].LastCode != 503 {
		t.Errorf("due at its retry time: %+v", due)
	}
	if err := s.FinishAttempt(ctx, ds[0].ID, DeliveryAttempt{Status: DeliveryDelivered, Code: 204}); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.PendingDeliveries(ctx); n != 0 {
		t.Errorf("%d pending after delivery", n)
	}
	// A disabled webhook's deliveries wait.
	w.Enabled = false
	if w, err = s.PutWebhook(ctx, w, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.QueueDeliveries(ctx, []WebhookDelivery{{WebhookID: w.ID, Kind: "ping", Body: "{}"}}, 0, -1); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DueDeliveries(ctx, clk.Now().Add(time.Hour), 10); len(due) != 0 {
		t.Errorf("a disabled webhook's delivery is due: %+v", due)
	}
	// Pruning keeps pending deliveries; deleting the webhook takes all.
	clk.Advance(48 * time.Hour)
	if n, err := s.PruneDeliveries(ctx, clk.Now().Add(-24*time.Hour)); err != nil || n != 1 {
		t.Errorf("prune: %d %v, want the delivered one", n, err)
	}
	if err := s.DeleteWebhook(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.WebhookDeliveries(ctx, DeliveryQuery{}); len(all) != 0 {
		t.Errorf("deliveries outlive their webhook: %+v", all)
	}
	if err := s.DeleteWebhook(ctx, w.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
}

func TestWebhookEventsAndDeviceCounts(t *testing.T) {
	s, clk, _ := openTest(t)
	ctx := context.Background()
	sn := mustSubnet(t, s, "10.9.0.0/24")
	scanOnce(t, s, clk, sn.ID, withSNMP(dev("10.9.0.1", "00:00:0c:00:00:01", "a", "switch"), "a", ""),
		dev("10.9.0.2", "00:00:0c:00:00:02", "b", "switch"), dev("10.9.0.3", "00:00:0c:00:00:03", "c", "printer"))
	page, err := s.Devices(ctx, DeviceQuery{AnsweredSNMP: true})
	if err != nil || page.Total != 1 || page.Devices[0].IP != "10.9.0.1" {
		t.Errorf("AnsweredSNMP: %+v %v, want 10.9.0.1 alone", page, err)
	}
	// From 0, oldest first: what EventQuery{AfterID: 0} does not do.
	evs, err := s.WebhookEvents(ctx, 0, 2)
	if err != nil || len(evs) != 2 || evs[0].ID >= evs[1].ID {
		t.Fatalf("events from 0: %+v %v", evs, err)
	}
	rest, err := s.WebhookEvents(ctx, evs[1].ID, 100)
	if err != nil || len(rest) == 0 || rest[0].ID <= evs[1].ID {
		t.Errorf("events after %d: %+v %v", evs[1].ID, rest, err)
	}
	counts, err := s.DeviceCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, c := range counts {
		if c.SubnetID != sn.ID || c.State != StateUp {
			t.Errorf("count %+v", c)
		}
		got[string(c.Category)] = c.Count
	}
	if got["switch"] != 2 || got["printer"] != 1 || len(got) != 2 {
		t.Errorf("counts %v", got)
	}
}
