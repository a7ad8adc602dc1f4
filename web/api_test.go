package web_test

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/scan"
	"github.com/lanscout/lanscout/snmp"
	"github.com/lanscout/lanscout/web"
)

type subnetJSON struct {
	ID          int64    `json:"id"`
	CIDR        string   `json:"cidr"`
	Name        string   `json:"name"`
	Method      string   `json:"method"`
	Credentials []string `json:"credentials"`
	Schedule    struct {
		Every string `json:"every"`
		At    string `json:"at"`
	} `json:"schedule"`
	RunningScan int64 `json:"running_scan"`
}

type listJSON[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
}

// TestAPIRoles calls every endpoint with each role: everyone reads, a
// viewer gets 403 on every write and nothing changes, operators scan,
// admins manage subnets.
func TestAPIRoles(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sn, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.7.0.0/24", Name: "Seven", Method: "tcp"})
	if err != nil {
		t.Fatal(err)
	}
	seedDevices(t, f.store, sn, scan.Device{IP: "10.7.0.9", MAC: "02:00:00:00:07:09", Category: "printer", Vendor: "Brother", FoundBy: []string{"tcp/9100"}})
	page, err := f.store.Devices(ctx, inventory.DeviceQuery{})
	if err != nil || page.Total != 1 {
		t.Fatalf("seed: %v %v", page, err)
	}
	dev := page.Devices[0]
	runs, _ := f.store.ScanRuns(ctx, sn.ID, 1)

	reads := []string{
		"/api/v1/me",
		"/api/v1/devices",
		"/api/v1/devices?q=10.7&category=printer&subnet=" + fmt.Sprint(sn.ID) + "&state=up&vendor=brother&sort=-ip&page=1&limit=10",
		fmt.Sprintf("/api/v1/devices/%d", dev.ID),
		"/api/v1/subnets",
		fmt.Sprintf("/api/v1/subnets/%d", sn.ID),
		fmt.Sprintf("/api/v1/subnets/%d/scans", sn.ID),
		fmt.Sprintf("/api/v1/scans/%d", runs[0].ID),
	}
	for _, role := range []inventory.Role{inventory.RoleViewer, inventory.RoleOperator, inventory.RoleAdmin} {
		for _, path := range reads {
			if code := f.api(f.tokens[role], http.MethodGet, path, nil, nil); code != http.StatusOK {
				t.Errorf("%s GET %s: %d, want 200", role, path, code)
			}
		}
	}
	for _, path := range reads {
		if code := f.api("", http.MethodGet, path, nil, nil); code != http.StatusUnauthorized {
			t.Errorf("anonymous GET %s: %d, want 401", path, code)
		}
		if code := f.api("lst_not-a-token", http.MethodGet, path, nil, nil); code != http.StatusUnauthorized {
			t.Errorf("bad token GET %s: %d, want 401", path, code)
		}
	}

	type write struct {
		method, path string
		body         any
	}
	subnetPath := fmt.Sprintf("/api/v1/subnets/%d", sn.ID)
	writes := []write{
		{http.MethodPost, "/api/v1/subnets", map[string]any{"cidr": "10.8.0.0/24"}},
		{http.MethodPut, subnetPath, map[string]any{"name": "renamed"}},
		{http.MethodDelete, subnetPath, nil},
		{http.MethodPost, subnetPath + "/scan", nil},
	}
	snapshot := func() (any, int) {
		subnets, err := f.store.Subnets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		runs, err := f.store.ScanRuns(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		_, audits, err := f.store.AuditLog(ctx, inventory.AuditQuery{})
		if err != nil {
			t.Fatal(err)
		}
		return []any{subnets, len(runs)}, audits
	}
	before, auditsBefore := snapshot()
	for _, w := range writes {
		if code := f.api(f.tokens[inventory.RoleViewer], w.method, w.path, w.body, nil); code != http.StatusForbidden {
			t.Errorf("viewer %s %s: %d, want 403", w.method, w.path, code)
		}
		if code := f.api("", w.method, w.path, w.body, nil); code != http.StatusUnauthorized {
			t.Errorf("anonymous %s %s: %d, want 401", w.method, w.path, code)
		}
	}
	// Operators scan but do not manage subnets.
	for _, w := range writes[:3] {
		if code := f.api(f.tokens[inventory.RoleOperator], w.method, w.path, w.body, nil); code != http.StatusForbidden {
			t.Errorf("operator %s %s: %d, want 403", w.method, w.path, code)
		}
	}
	after, auditsAfter := snapshot()
	if !reflect.DeepEqual(before, after) || auditsBefore != auditsAfter {
		t.Fatalf("refused writes changed something:\n%v\n%v (audit %d → %d)", before, after, auditsBefore, auditsAfter)
	}

	// Admin: create, read back, update, delete.
	admin := f.tokens[inventory.RoleAdmin]
	var created subnetJSON
	if code := f.api(admin, http.MethodPost, "/api/v1/subnets", map[string]any{"cidr": "10.8.0.0/24", "name": "Eight",
		"schedule": map[string]any{"every": "6h"}}, &created); code != http.StatusCreated {
		t.Fatalf("admin POST subnet: %d", code)
	}
	if created.CIDR != "10.8.0.0/24" || created.Schedule.Every != "6h0m0s" || created.Method != "auto" {
		t.Errorf("created %+v", created)
	}
	for _, bad := range []map[string]any{
		{"cidr": "10.8.0.1/24"},
		{"cidr": "10.8.0.0/25"},
		{"cidr": "10.20.0.0/24", "method": "carrier-pigeon"},
		{"cidr": "10.20.0.0/24", "nmae": "typo"},
		{"cidr": "10.20.0.0/24", "credentials": []string{"nope"}},
		{"cidr": "10.20.0.0/24", "schedule": map[string]any{"every": "often"}},
	} {
		if code := f.api(admin, http.MethodPost, "/api/v1/subnets", bad, nil); code != http.StatusBadRequest && code != http.StatusConflict {
			t.Errorf("POST %v: %d, want 400 or 409", bad, code)
		}
	}
	var updated subnetJSON
	path := fmt.Sprintf("/api/v1/subnets/%d", created.ID)
	if code := f.api(admin, http.MethodPut, path, map[string]any{"name": "Eight bis", "method": "icmp"}, &updated); code != http.StatusOK {
		t.Fatalf("admin PUT: %d", code)
	}
	if updated.Name != "Eight bis" || updated.Method != "icmp" || updated.Schedule.Every != "6h0m0s" {
		t.Errorf("updated %+v: fields left out must keep their values", updated)
	}
	var apiErr struct{ Error string }
	if code := f.api(admin, http.MethodPost, "/api/v1/subnets", map[string]any{"cidr": "10.8.0.1/24"}, &apiErr); code != http.StatusBadRequest ||
		apiErr.Error != `CIDR "10.8.0.1/24" has host bits set; the network is 10.8.0.0/24` {
		t.Errorf("host bits: %d %q", code, apiErr.Error)
	}
	if code := f.api(admin, http.MethodPut, path, map[string]any{"cidr": "10.9.0.0/24"}, nil); code != http.StatusBadRequest {
		t.Errorf("PUT changing the CIDR: %d, want 400", code)
	}
	if code := f.api(admin, http.MethodDelete, path, nil, nil); code != http.StatusNoContent {
		t.Errorf("admin DELETE: %d", code)
	}
	if code := f.api(admin, http.MethodGet, path, nil, nil); code != http.StatusNotFound {
		t.Errorf("GET deleted: %d, want 404", code)
	}
	for _, p := range []string{"/api/v1/devices/999999", "/api/v1/devices/x", "/api/v1/subnets/999999", "/api/v1/scans/999999", "/api/v1/nothing"} {
		if code := f.api(admin, http.MethodGet, p, nil, nil); code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, code)
		}
	}
	if code := f.api(admin, http.MethodGet, "/api/v1/devices?sort=colour", nil, nil); code != http.StatusBadRequest {
		t.Errorf("bad sort: %d, want 400", code)
	}

	// The device list answers items and total with the filters applied.
	var list listJSON[inventory.Device]
	f.api(admin, http.MethodGet, "/api/v1/devices?category=printer", nil, &list)
	if list.Total != 1 || len(list.Items) != 1 || list.Items[0].IP != "10.7.0.9" {
		t.Errorf("devices by category: %+v", list)
	}
	f.api(admin, http.MethodGet, "/api/v1/devices?category=router", nil, &list)
	if list.Total != 0 || list.Items == nil {
		t.Errorf("no routers: %+v (items must be [], not null)", list)
	}
	var detail inventory.DeviceDetail
	f.api(admin, http.MethodGet, fmt.Sprintf("/api/v1/devices/%d", dev.ID), nil, &detail)
	if detail.IP != "10.7.0.9" || len(detail.Sightings) == 0 {
		t.Errorf("device detail %+v", detail)
	}

	// Every write that went through is in the audit log.
	entries, _, err := f.store.AuditLog(ctx, inventory.AuditQuery{Actor: "token:admin-token"})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	if want := []string{"subnet.delete", "subnet.update", "subnet.create"}; !reflect.DeepEqual(actions, want) {
		t.Errorf("audit %v, want %v", actions, want)
	}
}

func TestScanNow(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.store.PutCredential(ctx, snmp.Credential{Name: "lab", Version: snmp.V2c, Community: "s3cret"}); err != nil {
		t.Fatal(err)
	}
	sn, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.6.0.0/24", Method: "tcp", Credentials: []string{"lab"}})
	if err != nil {
		t.Fatal(err)
	}
	f.scanner.devices = []scan.Device{
		{IP: "10.6.0.1", FoundBy: []string{"tcp/22"}, Category: "unknown"},
		{IP: "10.6.0.2", FoundBy: []string{"tcp/443"}, Category: "unknown"},
	}
	op := f.tokens[inventory.RoleOperator]
	path := fmt.Sprintf("/api/v1/subnets/%d/scan", sn.ID)
	var run inventory.ScanRun
	if code := f.api(op, http.MethodPost, path, nil, &run); code != http.StatusAccepted {
		t.Fatalf("scan: %d", code)
	}
	if run.Status != inventory.ScanRunning || run.SubnetID != sn.ID {
		t.Errorf("run %+v", run)
	}
	if code := f.api(op, http.MethodPost, path, nil, nil); code != http.StatusConflict {
		t.Errorf("second scan while one runs: %d, want 409", code)
	}
	var view subnetJSON
	f.api(op, http.MethodGet, fmt.Sprintf("/api/v1/subnets/%d", sn.ID), nil, &view)
	if view.RunningScan != run.ID {
		t.Errorf("running_scan %d, want %d", view.RunningScan, run.ID)
	}
	// Streamed devices are in the store while the scan still runs.
	waitFor(t, func() bool {
		page, _ := f.store.Devices(ctx, inventory.DeviceQuery{SubnetID: sn.ID})
		return page.Total == 2
	})
	close(f.scanner.release)
	waitFor(t, func() bool {
		r, _ := f.store.ScanRun(ctx, run.ID)
		return r.Status == inventory.ScanDone
	})
	done, _ := f.store.ScanRun(ctx, run.ID)
	if done.Stats.Recorded != 2 || done.Stats.NewDevices != 2 || done.Stats.Addresses != 4 {
		t.Errorf("finished run stats %+v", done.Stats)
	}
	f.scanner.mu.Lock()
	creds := f.scanner.creds
	f.scanner.mu.Unlock()
	if len(creds) != 1 || len(creds[0]) != 1 || string(creds[0][0].Community) != "s3cret" {
		t.Errorf("the scanner got credentials %v, want the subnet's, revealed", creds)
	}
	// The scan can run again once the first ended.
	f.scanner.release = make(chan struct{})
	if code := f.api(op, http.MethodPost, path, nil, &run); code != http.StatusAccepted {
		t.Fatalf("second scan: %d", code)
	}
	// Shutdown cancels it; its run is closed as incomplete, its devices kept.
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := f.srv.Close(sctx); err != nil {
		t.Fatal(err)
	}
	r, err := f.store.ScanRun(ctx, run.ID)
	if err != nil || r.Status != inventory.ScanIncomplete {
		t.Errorf("run after shutdown: %+v %v, want incomplete", r, err)
	}
	if code := f.api(op, http.MethodPost, path, nil, nil); code != http.StatusServiceUnavailable {
		t.Errorf("scan after shutdown: %d, want 503", code)
	}
	entries, _, _ := f.store.AuditLog(ctx, inventory.AuditQuery{Action: "subnet.scan"})
	if len(entries) != 2 || entries[0].Actor != "token:operator-token" {
		t.Errorf("audit of scans: %+v", entries)
	}
}

// waitFor polls cond until it holds, for up to 20 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 20s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestScanPanicFailsTheRun: a bug in a scan ends that run as failed and
// leaves the server serving.
func TestScanPanicFailsTheRun(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sn, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.4.0.0/24", Method: "tcp"})
	if err != nil {
		t.Fatal(err)
	}
	f.scanner.panics = true
	f.scanner.devices = []scan.Device{{IP: "10.4.0.1", FoundBy: []string{"tcp/22"}, Category: "unknown"}}
	var run inventory.ScanRun
	if code := f.api(f.tokens[inventory.RoleAdmin], http.MethodPost, fmt.Sprintf("/api/v1/subnets/%d/scan", sn.ID), nil, &run); code != http.StatusAccepted {
		t.Fatalf("scan: %d", code)
	}
	waitFor(t, func() bool {
		r, _ := f.store.ScanRun(ctx, run.ID)
		return r.Status != inventory.ScanRunning
	})
	r, _ := f.store.ScanRun(ctx, run.ID)
	if r.Status != inventory.ScanFailed || r.Error != "scan panicked: engine bug" || r.Stats.Recorded != 1 {
		t.Errorf("run %+v, want failed with the panic, keeping the device streamed before it", r)
	}
	if code := f.api(f.tokens[inventory.RoleAdmin], http.MethodGet, "/api/v1/me", nil, nil); code != http.StatusOK {
		t.Errorf("server after a scan panic: %d", code)
	}
}

// TestScheduledScans: a subnet with an interval that never ran is due at
// once; on-demand and denied subnets are left alone.
func TestScheduledScans(t *testing.T) {
	f := newFixture(t, func(_ *inventory.Options, wo *web.Options) { wo.ScheduleCheck = 10 * time.Millisecond })
	close(f.scanner.release)
	ctx := context.Background()
	denied, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.1.0.0/24", Method: "tcp", Policy: inventory.ScanDeny,
		Schedule: inventory.Schedule{Every: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	manual, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.2.0.0/24", Method: "tcp"})
	if err != nil {
		t.Fatal(err)
	}
	hourly, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.3.0.0/24", Method: "tcp", Schedule: inventory.Schedule{Every: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		runs, _ := f.store.ScanRuns(ctx, hourly.ID, 10)
		return len(runs) == 1 && runs[0].Status == inventory.ScanDone
	})
	for _, sn := range []inventory.Subnet{denied, manual} {
		if runs, _ := f.store.ScanRuns(ctx, sn.ID, 10); len(runs) != 0 {
			t.Errorf("%s was scanned by the scheduler: %+v", sn.CIDR, runs)
		}
	}
	entries, _, _ := f.store.AuditLog(ctx, inventory.AuditQuery{Actor: "system", Action: "subnet.scan"})
	if len(entries) != 1 || entries[0].Target != fmt.Sprintf("subnet/%d", hourly.ID) {
		t.Errorf("audit of the scheduled scan: %+v", entries)
	}
}
