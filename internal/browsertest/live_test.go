package browsertest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/internal/cli"
	"github.com/lanscout/lanscout/internal/tcptest"
)

// TestLiveSweepProgress follows a real scan of the real server through
// its event stream: 127.0.0.0/30 swept with the tcp method (127.0.0.1
// answers on a listener, the others refuse, which proves them up too).
// The sweep's own progress must reach the stream, which is what the
// progress bar draws: the server's scan function hands the engine the
// hook the job runner put in the scan's context.
func TestLiveSweepProgress(t *testing.T) {
	port := tcptest.Listen(t)
	// SNMP to a UDP port nobody listens on ends at once (port unreachable).
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	snmpPort := udp.LocalAddr().(*net.UDPAddr).Port
	udp.Close()
	dir := t.TempDir()
	base := startServerIn(t, dir, map[string]string{
		"LANSCOUT_ADMIN_PASSWORD": adminPassword,
		"LANSCOUT_TCP_PORTS":      fmt.Sprint(port),
		"LANSCOUT_SNMP_PORT":      fmt.Sprint(snmpPort),
		"LANSCOUT_SNMP_TIMEOUT":   "300ms",
	})
	// Creating the subnet takes an admin; scanning, an operator.
	var out, errOut bytes.Buffer
	if code := cli.Run(context.Background(), []string{"token", "create", "--data", dir, "--name", "live", "--role", "admin"},
		strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("token create: %d %s", code, errOut.String())
	}
	token := strings.TrimSpace(out.String())
	client := pinnedClient(t, dir)
	call := func(method, path string, body, v any) int {
		t.Helper()
		var b []byte
		if body != nil {
			b, _ = json.Marshal(body)
		}
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if v != nil {
			json.NewDecoder(resp.Body).Decode(v)
		}
		return resp.StatusCode
	}
	var sn struct{ ID int64 }
	if code := call("POST", "/api/v1/subnets", map[string]any{"cidr": "127.0.0.0/30", "method": "tcp"}, &sn); code != http.StatusCreated {
		t.Fatalf("create subnet: %d", code)
	}
	var run struct{ ID int64 }
	if code := call("POST", fmt.Sprintf("/api/v1/subnets/%d/scan", sn.ID), nil, &run); code != http.StatusAccepted {
		t.Fatalf("scan: %d", code)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/api/v1/scans/%d/events", base, run.ID), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	type progress struct {
		Phase                        string
		Sent, Total, Found, Recorded int
		Status                       string
	}
	var (
		name    string
		last    progress
		swept   bool
		devices []string
		endRun  struct{ Status string }
		sawEnd  bool
		scanner = bufio.NewScanner(resp.Body)
	)
	for scanner.Scan() {
		line := scanner.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data := []byte(strings.TrimPrefix(line, "data: "))
			switch name {
			case "progress":
				if err := json.Unmarshal(data, &last); err != nil {
					t.Fatal(err)
				}
				swept = swept || last.Total > 0
			case "device":
				var d struct{ IP string }
				json.Unmarshal(data, &d)
				devices = append(devices, d.IP)
			case "end":
				json.Unmarshal(data, &endRun)
				sawEnd = true
			}
		}
	}
	if !sawEnd || endRun.Status != "done" {
		t.Fatalf("stream ended without a done run (end %v, %+v): %v", sawEnd, endRun, scanner.Err())
	}
	if !swept || last.Total < 3 || last.Sent != last.Total || last.Found < 3 || last.Phase != "ended" {
		t.Errorf("last progress %+v: want the sweep's addresses all probed and 3 hosts found", last)
	}
	if len(devices) < 3 || last.Recorded < 3 {
		t.Errorf("devices streamed %v, recorded %d; want 127.0.0.1-3", devices, last.Recorded)
	}
}

// pinnedClient trusts exactly the server's certificate in dir.
func pinnedClient(t *testing.T, dir string) *http.Client {
	t.Helper()
	pemBytes, err := os.ReadFile(filepath.Join(dir, "tls.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("no certificate in tls.crt")
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 90 * time.Second}
}
