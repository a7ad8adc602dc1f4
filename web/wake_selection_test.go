package web_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/web"
)

// TestWakeSelectionConfirm: "Wake selected" on the devices list shows the
// route of each selected device (the routes the API previews and the wake
// takes) before anything is sent, and its button sends those devices.
func TestWakeSelectionConfirm(t *testing.T) {
	f := wakeFixture(t, web.WakeFallbackDirected)
	sn, ds := seedWake(t, f)
	f.user("otto", inventory.RoleOperator)
	f.user("vera", inventory.RoleViewer)
	get := func(c *http.Client, path string) (int, string) {
		t.Helper()
		resp, err := c.Get(f.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, html.UnescapeString(readBody(t, resp))
	}
	jobs := func() int {
		t.Helper()
		var list struct{ Items []wakeJob }
		if st := f.api(f.tokens[inventory.RoleViewer], http.MethodGet, "/api/v1/wake", nil, &list); st != http.StatusOK {
			t.Fatalf("GET /api/v1/wake: %d", st)
		}
		return len(list.Items)
	}
	apiRoutes := func(q string) map[int64]string {
		t.Helper()
		var out struct{ Items []wakeRoutePreview }
		if st := f.api(f.tokens[inventory.RoleViewer], http.MethodGet, "/api/v1/wake/routes?"+q, nil, &out); st != http.StatusOK {
			t.Fatalf("GET routes?%s: %d", q, st)
		}
		m := map[int64]string{}
		for _, r := range out.Items {
			m[r.DeviceID] = r.Summary
		}
		return m
	}
	// pageRoutes reads the confirm page's table: device id -> route line.
	rowRE := regexp.MustCompile(`(?s)<tr data-device-id="(\d+)">.*?<td class="wake-route[^"]*">([^<]*)`)
	pageRoutes := func(body string) map[int64]string {
		m := map[int64]string{}
		for _, sm := range rowRE.FindAllStringSubmatch(body, -1) {
			id, _ := strconv.ParseInt(sm[1], 10, 64)
			m[id] = sm[2]
		}
		return m
	}

	operator, _ := f.login("otto", testPassword)
	if st, body := get(operator, "/devices"); st != http.StatusOK ||
		!strings.Contains(body, `<form id="wake-selection" method="get" action="/wake/confirm"`) {
		t.Fatalf("devices list: %d, no selection form asking first", st)
	}
	sel := fmt.Sprintf("device=%d&device=%d", ds[0].ID, ds[1].ID)
	before := jobs()
	st, body := get(operator, "/wake/confirm?"+sel)
	if st != http.StatusOK {
		t.Fatalf("confirm page: %d\n%s", st, body)
	}
	// No route into TEST-NET-2: said per device, with the fallback offered.
	want := apiRoutes(sel)
	if got := pageRoutes(body); len(got) != 2 || got[ds[0].ID] != want[ds[0].ID] || got[ds[1].ID] != want[ds[1].ID] ||
		got[ds[0].ID] != "no route: fallback directed_broadcast if asked for" {
		t.Errorf("page routes %v, API routes %v", got, want)
	}
	if !strings.Contains(body, "2 of them have no route") || !strings.Contains(body, `name="fallback"`) ||
		!strings.Contains(body, "Wake 2 devices") || !strings.Contains(body, ds[0].MAC) {
		t.Errorf("confirm page without the no-route warning, fallback choice or button:\n%s", body)
	}
	if n := jobs(); n != before {
		t.Fatalf("showing the routes started %d wake jobs", n-before)
	}

	// Its button posts the same devices, and the wake takes the route shown.
	form := url.Values{}
	for _, sm := range regexp.MustCompile(`<input type="hidden" name="device" value="(\d+)">`).FindAllStringSubmatch(body, -1) {
		form.Add("device", sm[1])
	}
	if len(form["device"]) != 2 {
		t.Fatalf("the confirm form carries %v", form)
	}
	resp := f.postForm(operator, "/wake", form, "same-origin")
	loc := resp.Header.Get("Location")
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/wake/") {
		t.Fatalf("confirm: %d %s", resp.StatusCode, loc)
	}
	id, _ := strconv.ParseInt(strings.TrimPrefix(loc, "/wake/"), 10, 64)
	j := f.waitWake(id)
	if len(j.Targets) != 2 || target(j, ds[0].MAC).Route != "none" || target(j, ds[1].MAC).Route != "none" {
		t.Errorf("the wake took %+v", j.Targets)
	}

	// A trusted satellite serving the subnet: the page names it, and there
	// is nothing to warn about.
	trustedSatellite(t, f.store, inventory.Satellite{Name: "far-sat", Address: "192.0.2.7", User: "wol", Subnets: []string{sn.CIDR}})
	_, body = get(operator, "/wake/confirm?"+sel)
	if got := pageRoutes(body); got[ds[0].ID] != "satellite far-sat" || got[ds[1].ID] != "satellite far-sat" {
		t.Errorf("page routes with the satellite %v", got)
	}
	if strings.Contains(body, "no route") || strings.Contains(body, `name="fallback"`) {
		t.Errorf("no-route warning with a route:\n%s", body)
	}

	// Bad selections: a clear 400, nothing sent.
	for _, q := range []string{"", "device=x", "device=0", "device=999999", fmt.Sprintf("device=%d", ds[2].ID)} {
		if st, _ := get(operator, "/wake/confirm?"+q); st != http.StatusBadRequest {
			t.Errorf("confirm?%s: %d, want 400", q, st)
		}
	}
	// Viewers cannot wake, so they are not asked.
	viewer, _ := f.login("vera", testPassword)
	if st, _ := get(viewer, "/wake/confirm?"+sel); st != http.StatusForbidden {
		t.Errorf("viewer: %d, want 403", st)
	}
	if n := jobs(); n != before+1 {
		t.Errorf("%d wake jobs, want the one confirmed", n-before)
	}
}
