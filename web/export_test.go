package web_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/scan"
)

// download GETs a download with a token and returns its status, headers
// and body.
func (f *fixture) download(token, path string) (*http.Response, string) {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.ts.URL+path, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := f.ts.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp, string(b)
}

func seedExport(t *testing.T, f *fixture) (inventory.Subnet, inventory.Subnet) {
	t.Helper()
	ctx := context.Background()
	a, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.21.0.0/24", Method: "tcp"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.22.0.0/24", Method: "tcp"})
	if err != nil {
		t.Fatal(err)
	}
	var devs []scan.Device
	for i := 1; i <= 30; i++ {
		cat := "unknown"
		if i%3 == 0 {
			cat = "printer"
		}
		devs = append(devs, scan.Device{IP: fmt.Sprintf("10.21.0.%d", i), MAC: fmt.Sprintf("02:00:00:00:21:%02x", i),
			Category: cat, FoundBy: []string{"tcp/22"}})
	}
	seedDevices(t, f.store, a, devs...)
	seedDevices(t, f.store, b,
		scan.Device{IP: "10.22.0.5", MAC: "02:00:00:00:22:05", Hostnames: []string{"=HYPERLINK(\"http://x\")"}, Category: "printer",
			Vendor: "Brother", Model: "HL-L2350", FoundBy: []string{"tcp/9100"}, Confidence: 0.75},
		scan.Device{IP: "10.22.0.6", MAC: "02:00:00:00:22:06", Category: "server", FoundBy: []string{"tcp/22"}})
	return a, b
}

func TestDevicesCSV(t *testing.T) {
	f := newFixture(t)
	a, b := seedExport(t, f)
	for _, role := range []inventory.Role{inventory.RoleViewer, inventory.RoleOperator, inventory.RoleAdmin} {
		resp, body := f.download(f.tokens[role], "/api/v1/devices.csv")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", role, resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
		if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") || !strings.Contains(cd, ".csv") {
			t.Errorf("Content-Disposition %q", cd)
		}
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatalf("%s: CSV does not parse: %v", role, err)
		}
		if len(rows) != 33 {
			t.Errorf("%s: %d rows, want a header and 32 devices", role, len(rows))
		}
	}
	if resp, _ := f.download("", "/api/v1/devices.csv"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous download: %d, want 401", resp.StatusCode)
	}

	viewer := f.tokens[inventory.RoleViewer]
	read := func(path string) []map[string]string {
		t.Helper()
		resp, body := f.download(viewer, path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		want := "id,ip,mac,mac_vendor,name,hostnames,category,vendor,model,serial,state,status,subnet_id,subnet,confidence,identified_by,agent_id,found_by,first_seen,last_seen"
		if got := strings.Join(rows[0], ","); got != want {
			t.Fatalf("header %s\nwant   %s", got, want)
		}
		var out []map[string]string
		for _, r := range rows[1:] {
			m := map[string]string{}
			for i, h := range rows[0] {
				m[h] = r[i]
			}
			out = append(out, m)
		}
		return out
	}
	rows := read(fmt.Sprintf("/api/v1/devices.csv?category=printer&subnet=%d&sort=-ip", b.ID))
	if len(rows) != 1 {
		t.Fatalf("printers in %s: %d rows", b.CIDR, len(rows))
	}
	r := rows[0]
	if r["ip"] != "10.22.0.5" || r["category"] != "printer" || r["vendor"] != "Brother" || r["model"] != "HL-L2350" ||
		r["subnet"] != "10.22.0.0/24" || r["state"] != "up" || r["confidence"] != "0.75" || r["found_by"] != "tcp/9100" ||
		!strings.HasSuffix(r["last_seen"], "Z") {
		t.Errorf("row %v", r)
	}
	if !strings.HasPrefix(r["name"], "'=") || !strings.HasPrefix(r["hostnames"], "'=") {
		t.Errorf("a formula-like name is not defused: name %q hostnames %q", r["name"], r["hostnames"])
	}
	rows = read("/api/v1/devices.csv?category=printer&sort=-ip&limit=2&page=3")
	var ips []string
	for _, r := range rows {
		ips = append(ips, r["ip"])
	}
	if len(ips) != 11 || ips[0] != "10.22.0.5" || ips[1] != "10.21.0.30" || ips[10] != "10.21.0.3" {
		t.Errorf("printers by -ip, limit and page ignored: %v", ips)
	}
	if rows := read(fmt.Sprintf("/api/v1/devices.csv?subnet=%d&q=10.21.0.1", a.ID)); len(rows) == 0 || len(rows) > 11 {
		t.Errorf("search: %d rows", len(rows))
	}
	if rows := read("/api/v1/devices.csv?category=router"); len(rows) != 0 {
		t.Errorf("no routers: %d rows", len(rows))
	}
	resp, body := f.download(viewer, "/api/v1/devices.csv?category=toaster")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "unknown category") {
		t.Errorf("bad filter: %d %s", resp.StatusCode, body)
	}
}

func TestDevicesJSONDownload(t *testing.T) {
	f := newFixture(t)
	_, b := seedExport(t, f)
	for _, role := range []inventory.Role{inventory.RoleViewer, inventory.RoleOperator, inventory.RoleAdmin} {
		resp, body := f.download(f.tokens[role], "/api/v1/devices.json")
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("%s: %d %s", role, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		var all []inventory.Device
		if err := json.Unmarshal([]byte(body), &all); err != nil {
			t.Fatalf("%s: %v", role, err)
		}
		if len(all) != 32 {
			t.Errorf("%s: %d devices, want 32", role, len(all))
		}
	}
	_, body := f.download(f.tokens[inventory.RoleViewer], fmt.Sprintf("/api/v1/devices.json?subnet=%d&sort=-ip", b.ID))
	var got []inventory.Device
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].IP != "10.22.0.6" || got[1].IP != "10.22.0.5" {
		t.Errorf("subnet filter, sorted: %+v", got)
	}
	_, body = f.download(f.tokens[inventory.RoleViewer], "/api/v1/devices.json?category=router")
	if strings.TrimSpace(body) != "[]" {
		t.Errorf("empty download %q, want []", body)
	}
	if resp, _ := f.download("", "/api/v1/devices.json"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous: %d", resp.StatusCode)
	}
}

func TestDownloadLinks(t *testing.T) {
	f := newFixture(t)
	_, b := seedExport(t, f)
	f.user("viewer", inventory.RoleViewer)
	c, resp := f.login("viewer", testPassword)
	readBody(t, resp)
	resp, _ = c.Get(f.ts.URL + fmt.Sprintf("/devices?category=printer&subnet=%d&page=1", b.ID))
	body := readBody(t, resp)
	want := fmt.Sprintf(`href="/api/v1/devices.csv?category=printer&amp;subnet=%d"`, b.ID)
	if !strings.Contains(body, want) || !strings.Contains(body, strings.Replace(want, ".csv", ".json", 1)) {
		t.Errorf("devices page lacks download links carrying the filters, %s", want)
	}
	// The link works with the session alone.
	resp, _ = c.Get(f.ts.URL + fmt.Sprintf("/api/v1/devices.csv?category=printer&subnet=%d", b.ID))
	body = readBody(t, resp)
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if resp.StatusCode != http.StatusOK || err != nil || len(rows) != 2 {
		t.Errorf("download with a session: %d %v %d rows", resp.StatusCode, err, len(rows))
	}
}
