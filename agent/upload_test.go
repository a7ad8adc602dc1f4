package agent

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/lanscout/lanscout/agent/protocol"
	"github.com/lanscout/lanscout/scan"
)

// TestUploaderSplitsAndRetries: batches the server finds too large are
// halved, a failing server is retried, batches stay in order, and the
// last one carries the summary.
func TestUploaderSplitsAndRetries(t *testing.T) {
	var mu sync.Mutex
	var got []protocol.TaskResult
	fails := 2 // the first two requests meet a failing server
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var res protocol.TaskResult
		if err := protocol.Decode(r.Body, r.Header.Get("Content-Encoding"), &res); err != nil {
			http.Error(w, `{"error":"bad"}`, http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if fails > 0 {
			fails--
			http.Error(w, `{"error":"busy"}`, http.StatusServiceUnavailable)
			return
		}
		if res.Scan != nil && len(res.Scan.Devices) > 3 {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			fmt.Fprint(w, `{"error":"too large"}`)
			return
		}
		if res.Batch != len(got) {
			w.WriteHeader(http.StatusConflict)
			fmt.Fprintf(w, `{"error":"want batch %d"}`, len(got))
			return
		}
		got = append(got, res)
		fmt.Fprintf(w, `{"task_id":%q,"batch":%d}`, res.TaskID, res.Batch)
	}))
	defer srv.Close()
	sum := sha256.Sum256(srv.Certificate().Raw)
	cl, err := NewClient(srv.URL, TLSOptions{Fingerprint: "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])}, "test")
	if err != nil {
		t.Fatal(err)
	}
	a := &Agent{opts: Options{BatchDevices: 8, Backoff: Backoff{Base: time.Millisecond, Max: 5 * time.Millisecond}}, client: cl,
		log: slog.New(slog.DiscardHandler)}
	up := &uploader{a: a, ctx: context.Background(), task: "t1", log: a.log}
	var devs []protocol.Device
	for i := range 10 {
		devs = append(devs, protocol.Device{Device: scan.Device{IP: fmt.Sprintf("10.0.0.%d", i+1)}})
	}
	summary := &protocol.ScanSummary{Method: "arp"}
	up.finalDevices(context.Background(), protocol.TaskResult{Scan: &protocol.ScanResult{Devices: devs, Summary: summary}})

	var ips []string
	for i, r := range got {
		if r.Batch != i || r.TaskID != "t1" {
			t.Errorf("upload %d: batch %d task %q", i, r.Batch, r.TaskID)
		}
		last := i == len(got)-1
		if r.Final != last || (r.Scan.Summary != nil) != last {
			t.Errorf("upload %d: final %v summary %v, want both only on the last", i, r.Final, r.Scan.Summary)
		}
		for _, d := range r.Scan.Devices {
			ips = append(ips, d.IP)
		}
	}
	if fmt.Sprint(ips) != "[10.0.0.1 10.0.0.2 10.0.0.3 10.0.0.4 10.0.0.5 10.0.0.6 10.0.0.7 10.0.0.8 10.0.0.9 10.0.0.10]" {
		t.Errorf("devices uploaded: %v", ips)
	}
}
