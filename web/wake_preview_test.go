package web_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"html"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/satellite"
	"github.com/lanscout/lanscout/web"
)

type wakeRoutePreview struct {
	DeviceID      int64  `json:"device_id"`
	MAC           string `json:"mac"`
	Subnet        string `json:"subnet"`
	Route         string `json:"route"`
	Via           string `json:"via"`
	Detail        string `json:"detail"`
	FallbackOffer string `json:"fallback_offer"`
	Summary       string `json:"summary"`
}

// TestWakeRoutePreview: the route a wake would take is shown before
// sending (API, device and subnet pages) and is the one the wake takes.
func TestWakeRoutePreview(t *testing.T) {
	f := wakeFixture(t, web.WakeFallbackDirected)
	sn, ds := seedWake(t, f)
	viewer, op := f.tokens[inventory.RoleViewer], f.tokens[inventory.RoleOperator]
	preview := func(query string) []wakeRoutePreview {
		t.Helper()
		var out struct{ Items []wakeRoutePreview }
		if st := f.api(viewer, http.MethodGet, "/api/v1/wake/routes?"+query, nil, &out); st != http.StatusOK {
			t.Fatalf("GET routes?%s: %d", query, st)
		}
		return out.Items
	}

	// No route into the subnet (the server has no interface in
	// TEST-NET-2, no agent, no satellite): the fallback is offered.
	got := preview(fmt.Sprintf("device=%d&device=%d", ds[0].ID, ds[1].ID))
	if len(got) != 2 {
		t.Fatalf("preview %+v, want two targets", got)
	}
	for _, p := range got {
		if p.Route != "none" || p.FallbackOffer != "directed_broadcast" || p.Summary != "no route: fallback directed_broadcast if asked for" ||
			p.Subnet != sn.CIDR {
			t.Errorf("preview %+v", p)
		}
	}
	// The wake takes that route, with the same detail.
	var j wakeJob
	if st := f.api(op, http.MethodPost, "/api/v1/wake", map[string]any{"devices": []int64{ds[0].ID}}, &j); st != http.StatusAccepted {
		t.Fatalf("POST: %d", st)
	}
	if tg := target(j, ds[0].MAC); tg.Route != got[0].Route || tg.Via != got[0].Via || tg.Detail != got[0].Detail {
		t.Errorf("the wake took %+v, the preview said %+v", tg, got[0])
	}
	f.waitWake(j.ID)

	// A trusted satellite serving the subnet: the preview names it
	// (nothing is dialled to say so).
	trustedSatellite(t, f.store, inventory.Satellite{Name: "far-sat", Address: "192.0.2.7", User: "wol", Subnets: []string{sn.CIDR}})
	got = preview(fmt.Sprintf("subnet=%d", sn.ID))
	if len(got) != 2 {
		t.Fatalf("preview of the subnet %+v, want its two devices with a MAC", got)
	}
	for _, p := range got {
		if p.Route != "satellite" || p.Via != "far-sat" || p.Summary != "satellite far-sat" || p.FallbackOffer != "" {
			t.Errorf("preview %+v, want the satellite", p)
		}
	}

	// The pages show it by the wake buttons.
	f.user("otto", inventory.RoleOperator)
	browser, _ := f.login("otto", testPassword)
	for _, path := range []string{fmt.Sprintf("/devices/%d", ds[0].ID), fmt.Sprintf("/subnets/%d", sn.ID)} {
		resp, err := browser.Get(f.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		if body := html.UnescapeString(readBody(t, resp)); !strings.Contains(body, `wake via: <span class="wake-route">satellite far-sat</span>`) {
			t.Errorf("%s does not show the route", path)
		}
	}

	for _, q := range []string{"device=x", "device=0", "subnet=-1", "device=999999", "mac=nope", ""} {
		if st := f.api(viewer, http.MethodGet, "/api/v1/wake/routes?"+q, nil, nil); st != http.StatusBadRequest {
			t.Errorf("GET routes?%s: %d, want 400", q, st)
		}
	}
}

// trustedSatellite creates sat with a freshly made host key already
// trusted, for tests about routing and pages: nothing dials it (its
// address is in a documentation range), so the key only has to be one
// the store accepts as confirmed.
func trustedSatellite(t *testing.T, store *inventory.SQLite, sat inventory.Satellite) inventory.Satellite {
	t.Helper()
	ctx := context.Background()
	sat, err := store.CreateSatellite(ctx, sat, nil)
	if err != nil {
		t.Fatalf("creating satellite %s: %v", sat.Name, err)
	}
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	hk, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	sat, err = store.SetSatelliteTrustedKey(ctx, sat.ID, satellite.FormatHostKey(hk), satellite.Fingerprint(hk))
	if err != nil {
		t.Fatalf("trusting satellite %s: %v", sat.Name, err)
	}
	return sat
}
