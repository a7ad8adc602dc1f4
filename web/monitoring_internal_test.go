package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/inventory"
)

// TestEmitEventAndObserveWake checks the two hooks the wake feature calls:
// a wake's outcome goes to the webhooks that asked for it and is counted
// in /metrics.
func TestEmitEventAndObserveWake(t *testing.T) {
	got := make(chan []byte, 4)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if err := VerifySignature("wake-secret", r.Header.Get(SignatureHeader), b, time.Now(), time.Minute); err != nil {
			t.Errorf("signature: %v", err)
		}
		if r.Header.Get(EventHeader) != inventory.EventWakeOutcome {
			t.Errorf("event header %q", r.Header.Get(EventHeader))
		}
		got <- b
	}))
	defer recv.Close()
	ctx := context.Background()
	store, err := inventory.OpenSQLite(ctx, t.TempDir(), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	secret := "wake-secret"
	if _, err := store.PutWebhook(ctx, inventory.Webhook{Name: "wakes", URL: recv.URL, Enabled: true,
		Events: []string{inventory.EventWakeOutcome}}, &secret); err != nil {
		t.Fatal(err)
	}
	if _, err := store.PutWebhook(ctx, inventory.Webhook{Name: "devices-only", URL: recv.URL + "/devices", Enabled: true,
		Events: []string{"new_device"}}, nil); err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Store: store, Logger: slog.New(slog.DiscardHandler), ScheduleCheck: -1,
		Monitoring: MonitoringOptions{WebhookPoll: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)

	s.observeWake("confirmed")
	s.observeWake("confirmed")
	s.observeWake("no_route")
	reqCtx, cancel := context.WithCancel(ctx)
	cancel() // the request may be gone already: the event is still queued
	s.emitEvent(reqCtx, inventory.EventWakeOutcome, map[string]any{"mac": "00:11:22:33:44:55", "outcome": "confirmed"})
	select {
	case b := <-got:
		var body struct {
			Kind string
			Data map[string]string
		}
		if err := json.Unmarshal(b, &body); err != nil || body.Kind != inventory.EventWakeOutcome || body.Data["outcome"] != "confirmed" {
			t.Errorf("body %s (%v)", b, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the wake outcome was not delivered (emitEvent must not wait for the next poll)")
	}
	select {
	case b := <-got:
		t.Errorf("a second delivery: %s", b)
	case <-time.After(200 * time.Millisecond):
	}
	rec := httptest.NewRecorder()
	s.mon.metricsHandler.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{`lanscout_wakes_total{outcome="confirmed"} 2`, `lanscout_wakes_total{outcome="no_route"} 1`,
		`lanscout_wakes_total{outcome="failed"} 0`, `lanscout_webhook_attempts_total{result="delivered",webhook="wakes"} 1`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func FuzzVerifySignature(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	f.Add("t=1800000000,v1=00", []byte(`{"kind":"gone"}`))
	f.Add(Sign("k", now, []byte("body")), []byte("body"))
	f.Add("", []byte{})
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		// Any header is refused or accepted without a panic, and what we
		// sign always verifies.
		_ = VerifySignature("k", header, body, now, time.Minute)
		if err := VerifySignature("k", Sign("k", now, body), body, now, time.Minute); err != nil {
			t.Errorf("own signature: %v", err)
		}
	})
}
