package web

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/scan"
	"github.com/lanscout/lanscout/snmp"
)

// uiRoles is the least role every UI route under the session wall needs.
// The sweep fails on a UI route missing here, so a new page or form must
// be given its role before it ships. (API routes take theirs from
// openapi.yaml's x-lanscout-role, which TestOpenAPIMatchesRoutes keeps
// complete.)
var uiRoles = map[string]inventory.Role{
	"GET /":                                inventory.RoleViewer,
	"GET /devices":                         inventory.RoleViewer,
	"GET /devices/:id":                     inventory.RoleViewer,
	"POST /devices/:id/identify":           inventory.RoleOperator,
	"POST /devices/:id/unidentify":         inventory.RoleOperator,
	"GET /subnets":                         inventory.RoleViewer,
	"POST /subnets":                        inventory.RoleAdmin,
	"GET /subnets/:id":                     inventory.RoleViewer,
	"GET /subnets/:id/map":                 inventory.RoleViewer,
	"POST /subnets/:id/scan":               inventory.RoleOperator,
	"GET /subnets/:id/edit":                inventory.RoleAdmin,
	"POST /subnets/:id/edit":               inventory.RoleAdmin,
	"POST /subnets/:id/delete":             inventory.RoleAdmin,
	"GET /subnets/:id/election":            inventory.RoleViewer,
	"POST /subnets/:id/election":           inventory.RoleAdmin,
	"POST /subnets/:id/election/pin":       inventory.RoleAdmin,
	"GET /election":                        inventory.RoleViewer,
	"POST /election/agents/:id/never":      inventory.RoleAdmin,
	"GET /agents":                          inventory.RoleViewer,
	"GET /agents/:id":                      inventory.RoleViewer,
	"POST /agents/:id/revoke":              inventory.RoleAdmin,
	"GET /enrollment-keys":                 inventory.RoleAdmin,
	"POST /enrollment-keys":                inventory.RoleAdmin,
	"POST /enrollment-keys/:id/revoke":     inventory.RoleAdmin,
	"GET /wake":                            inventory.RoleViewer,
	"GET /wake/:id":                        inventory.RoleViewer,
	"GET /wake/confirm":                    inventory.RoleOperator,
	"POST /wake":                           inventory.RoleOperator,
	"POST /wake/schedules":                 inventory.RoleOperator,
	"POST /wake/schedules/:id/delete":      inventory.RoleOperator,
	"GET /monitoring":                      inventory.RoleViewer,
	"POST /monitoring/webhooks":            inventory.RoleAdmin,
	"POST /monitoring/webhooks/:id/delete": inventory.RoleAdmin,
	"POST /monitoring/webhooks/:id/test":   inventory.RoleAdmin,
	"GET /ocs":                             inventory.RoleViewer,
	"GET /admin":                           inventory.RoleAdmin,
	"GET /admin/credentials":               inventory.RoleAdmin,
	"POST /admin/credentials":              inventory.RoleAdmin,
	"POST /admin/credentials/delete":       inventory.RoleAdmin,
	"GET /admin/users":                     inventory.RoleAdmin,
	"POST /admin/users":                    inventory.RoleAdmin,
	"POST /admin/users/:id":                inventory.RoleAdmin,
	"POST /admin/users/:id/password":       inventory.RoleAdmin,
	"POST /admin/users/:id/delete":         inventory.RoleAdmin,
	"GET /admin/tokens":                    inventory.RoleAdmin,
	"POST /admin/tokens":                   inventory.RoleAdmin,
	"POST /admin/tokens/:id/revoke":        inventory.RoleAdmin,
	"GET /admin/audit":                     inventory.RoleAdmin,
	"GET /admin/settings":                  inventory.RoleAdmin,
	"POST /admin/settings":                 inventory.RoleAdmin,
	"GET /admin/types":                     inventory.RoleAdmin,
	"GET /admin/types/new":                 inventory.RoleAdmin,
	"POST /admin/types/new":                inventory.RoleAdmin,
	"GET /admin/types/:id":                 inventory.RoleAdmin,
	"POST /admin/types/:id":                inventory.RoleAdmin,
	"POST /admin/types/:id/delete":         inventory.RoleAdmin,
	"POST /admin/types/reclassify":         inventory.RoleAdmin,
	"GET /admin/satellites":                inventory.RoleAdmin,
	"POST /admin/satellites":               inventory.RoleAdmin,
	"GET /admin/satellites/:id":            inventory.RoleAdmin,
	"POST /admin/satellites/:id":           inventory.RoleAdmin,
	"POST /admin/satellites/:id/delete":    inventory.RoleAdmin,
	"POST /admin/satellites/:id/test":      inventory.RoleAdmin,
	"POST /admin/satellites/:id/trust":     inventory.RoleAdmin,
}

// sweepExempt says why a route is outside the session and token wall, or
// "" when it is inside.
func sweepExempt(path, ocsPath string) string {
	switch {
	case strings.HasPrefix(path, "/agent/v1/"):
		return "agents authenticate with their own enrollment and agent tokens (agents_security_test.go)"
	case ocsPath != "" && (path == ocsPath || path == ocsPath+"/"):
		return "OCS agents authenticate with HTTP basic auth or none, as configured (ocs_security_test.go)"
	case path == "/login" || path == "/logout":
		return "how a session starts and ends; open to anyone by design"
	case path == "/healthz" || strings.HasPrefix(path, "/static/"):
		return "health check and embedded assets, public and read-only"
	}
	return ""
}

// TestEveryRouteRefusesLowerRoles walks the router's own route list, so a
// route added later is swept without anyone listing it here. For every
// route behind the wall: no credentials get 401 (API) or a redirect to
// the login page (UI). For every state change (and every admin page),
// each principal below the route's role - a viewer's and an operator's
// real login session, and their real API tokens - is refused with 403 by
// the role check itself (its message names the role), and the database
// is byte for byte what it was before. Finally an admin session gets past
// every check, which shows the sweep reaches the role checks at all and
// that the substituted ids name real rows.
func TestEveryRouteRefusesLowerRoles(t *testing.T) {
	ctx := context.Background()
	store, err := inventory.OpenSQLite(ctx, t.TempDir(), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	const ocsPath = "/ocsinventory"
	s, err := New(Options{Store: store, ScheduleCheck: -1, OCS: OCSOptions{Enabled: true, Path: ocsPath}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewTLSServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		s.Close(cctx)
	})

	// Something real behind every kind of id, so a write that slipped
	// past its role check would change a row the snapshot covers.
	ids := sweepSeed(t, store)

	// Real sessions through the login form, real API tokens.
	const password = "correct horse battery"
	// ts.Client() is one shared client: each principal gets its own.
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	anon := &http.Client{Transport: ts.Client().Transport, CheckRedirect: noRedirect}
	sessions := map[inventory.Role]*http.Client{}
	tokens := map[inventory.Role]string{}
	for _, r := range []inventory.Role{inventory.RoleViewer, inventory.RoleOperator, inventory.RoleAdmin} {
		if _, err := store.CreateUser(ctx, "sweep-"+string(r), password, r); err != nil {
			t.Fatal(err)
		}
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Transport: ts.Client().Transport, Jar: jar, CheckRedirect: noRedirect}
		resp := sweepDo(t, c, ts.URL, http.MethodPost, "/login", "sweep-"+string(r), password)
		if resp.code != http.StatusSeeOther || resp.location != "/" {
			t.Fatalf("log in as %s: %d to %q", r, resp.code, resp.location)
		}
		sessions[r] = c
		if tokens[r], _, err = store.CreateAPIToken(ctx, "sweep-"+string(r), r, 0, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}

	var doc openAPIDocument
	if err := yaml.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	apiRole := func(method, path string) (inventory.Role, bool) {
		n, ok := doc.Paths[openAPIPath(path)][strings.ToLower(method)]
		if !ok {
			return "", false
		}
		var op openAPIOp
		if err := n.Decode(&op); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		return inventory.Role(op.Role), op.Role != ""
	}

	routes := s.engine.Routes()
	sort.Slice(routes, func(i, j int) bool { return routes[i].Path+routes[i].Method < routes[j].Path+routes[j].Method })
	type target struct {
		method, route, url string
		api                bool
		role               inventory.Role
	}
	var swept []target
	exempt := 0
	for _, r := range routes {
		if why := sweepExempt(r.Path, ocsPath); why != "" {
			t.Logf("exempt %s %s: %s", r.Method, r.Path, why)
			exempt++
			continue
		}
		tg := target{method: r.Method, route: r.Path, api: strings.HasPrefix(r.Path, "/api/"),
			url: ginParam.ReplaceAllStringFunc(r.Path, func(m string) string { return sweepID(r.Path, m, ids) })}
		var ok bool
		switch {
		case r.Path == "/metrics":
			// Prometheus scrapes with a token (MetricsToken, the default);
			// it is a read, for any role.
			tg.api, tg.role, ok = true, inventory.RoleViewer, true
		case tg.api:
			tg.role, ok = apiRole(r.Method, r.Path)
		default:
			tg.role, ok = uiRoles[r.Method+" "+r.Path]
		}
		if !ok {
			t.Errorf("%s %s has no role to check: give it one in uiRoles (UI) or x-lanscout-role in openapi.yaml (API)", r.Method, r.Path)
			continue
		}
		swept = append(swept, tg)
	}

	// A reader of its own on the file: what is committed is what counts.
	db, err := sql.Open("sqlite", "file:"+url.PathEscape(store.Path())+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	snap := sweepSnapshot(t, db)
	refusals := 0
	for _, tg := range swept {
		write := tg.method != http.MethodGet && tg.method != http.MethodHead
		name := tg.method + " " + tg.route

		// No credentials at all.
		got := sweepDo(t, anon, ts.URL, tg.method, tg.url, "", "")
		if tg.api && got.code != http.StatusUnauthorized {
			t.Errorf("%s without credentials: %d, want 401", name, got.code)
		}
		if !tg.api && (got.code != http.StatusSeeOther || got.location != "/login") {
			t.Errorf("%s without a session: %d to %q, want 303 to /login", name, got.code, got.location)
		}

		if !write && tg.role == inventory.RoleViewer {
			// A read for viewers: a viewer is let in. (Reads that need
			// more, admin pages and the wake confirmation, are refused
			// below like writes.)
			var got sweepResult
			if tg.api {
				got = sweepDo(t, anon, ts.URL, tg.method, tg.url, "", tokens[inventory.RoleViewer])
			} else {
				got = sweepDo(t, sessions[inventory.RoleViewer], ts.URL, tg.method, tg.url, "", "")
			}
			if got.code == http.StatusUnauthorized || got.code == http.StatusForbidden || got.code == http.StatusSeeOther {
				t.Errorf("%s is a read for viewers, but a viewer gets %d %s", name, got.code, got.body)
			}
			continue
		}
		if write && tg.role == inventory.RoleViewer {
			t.Errorf("%s changes state, yet its role is viewer", name)
			continue
		}

		// Everyone below the route's role, by session and (for the API)
		// by token, is refused by the role check and changes nothing.
		for _, r := range []inventory.Role{inventory.RoleViewer, inventory.RoleOperator} {
			if r.Allows(tg.role) {
				continue
			}
			type principal struct {
				how    string
				client *http.Client
				token  string
			}
			ps := []principal{{"session", sessions[r], ""}}
			if tg.api {
				ps = append(ps, principal{"token", anon, tokens[r]})
			}
			for _, p := range ps {
				got := sweepDo(t, p.client, ts.URL, tg.method, tg.url, "", p.token)
				want := fmt.Sprintf("this needs the %s role; you are %s", tg.role, r)
				if got.code != http.StatusForbidden || !strings.Contains(got.body, want) {
					t.Errorf("SECURITY: %s by a %s %s: %d %.200s; want 403 %q", name, r, p.how, got.code, got.body, want)
				}
				if tg.api && !strings.HasPrefix(got.contentType, "application/json") {
					t.Errorf("%s by a %s %s: refused as %q, want JSON", name, r, p.how, got.contentType)
				}
				if !tg.api && !strings.HasPrefix(got.contentType, "text/html") {
					t.Errorf("%s by a %s %s: refused as %q, want the HTML status page", name, r, p.how, got.contentType)
				}
				if now := sweepSnapshot(t, db); now != snap {
					t.Errorf("SECURITY: %s by a %s %s changed the database", name, r, p.how)
					snap = now
				}
				refusals++
			}
		}
	}

	// An admin gets past every check. Done last: these writes run.
	reached := 0
	for _, tg := range swept {
		var got sweepResult
		if tg.api {
			got = sweepDo(t, anon, ts.URL, tg.method, tg.url, "", tokens[inventory.RoleAdmin])
		} else {
			got = sweepDo(t, sessions[inventory.RoleAdmin], ts.URL, tg.method, tg.url, "", "")
		}
		if got.code == http.StatusUnauthorized || got.code == http.StatusForbidden || got.code == http.StatusMethodNotAllowed ||
			(got.code == http.StatusSeeOther && got.location == "/login") {
			t.Errorf("%s %s by an admin: %d %.200s", tg.method, tg.route, got.code, got.body)
			continue
		}
		reached++
	}
	// The admin's writes ran: a snapshot that did not see them could not
	// have seen a refused write that ran either.
	if sweepSnapshot(t, db) == snap {
		t.Error("an admin's writes left the snapshot as it was: it sees nothing")
	}
	t.Logf("%d routes: %d exempt, %d swept, %d refusals checked, an admin reached %d", len(routes), exempt, len(swept), refusals, reached)
}

// sweepSeed creates one of everything the routes' ids name.
func sweepSeed(t *testing.T, store *inventory.SQLite) map[string]string {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	sn, err := store.CreateSubnet(ctx, inventory.Subnet{CIDR: "192.0.2.0/24", Name: "sweep"})
	must(err)
	run, err := store.BeginScan(ctx, sn.ID, inventory.Scanner{Kind: inventory.ScannerServer, ID: "server"}, "arp")
	must(err)
	dev, err := store.RecordDevice(ctx, run.ID, scan.Device{IP: "192.0.2.10", MAC: "02:00:00:00:00:10", FoundBy: []string{"arp"}})
	must(err)
	_, err = store.FinishScan(ctx, run.ID, inventory.ScanEnd{})
	must(err)
	u, err := store.CreateUser(ctx, "sweep-target", "another long password", inventory.RoleViewer)
	must(err)
	_, tok, err := store.CreateAPIToken(ctx, "sweep-target", inventory.RoleViewer, 0, time.Time{})
	must(err)
	key, ek, err := store.CreateEnrollmentKey(ctx, inventory.EnrollmentKey{Name: "sweep"})
	must(err)
	_, agent, err := store.EnrollAgent(ctx, inventory.Enrollment{Key: key, UID: "sweep-agent", Hostname: "pc1"})
	must(err)
	wh, err := store.PutWebhook(ctx, inventory.Webhook{Name: "sweep", URL: "http://127.0.0.1:9/hook"}, nil)
	must(err)
	ws, err := store.CreateWakeSchedule(ctx, inventory.WakeSchedule{Name: "sweep", At: "03:00", DeviceIDs: []int64{dev}})
	must(err)
	sat, err := store.CreateSatellite(ctx, inventory.Satellite{Name: "sweep", Address: "127.0.0.1", Port: 9, User: "root"}, nil)
	must(err)
	cred, err := store.PutCredential(ctx, snmp.Credential{Name: "sweep", Version: snmp.V2c, Community: "public"})
	must(err)
	return map[string]string{
		"subnets": fmt.Sprint(sn.ID), "devices": fmt.Sprint(dev), "scans": fmt.Sprint(run.ID),
		"users": fmt.Sprint(u.ID), "tokens": fmt.Sprint(tok.ID), "enrollment-keys": fmt.Sprint(ek.ID),
		"agents": fmt.Sprint(agent.ID), "webhooks": fmt.Sprint(wh.ID), "schedules": fmt.Sprint(ws.ID),
		"satellites": fmt.Sprint(sat.ID), "credentials": cred.Name, "pins": fmt.Sprint(agent.ID),
	}
}

// sweepID fills one path parameter with a seeded row's id, chosen by the
// path segment before it.
func sweepID(path, param string, ids map[string]string) string {
	switch param {
	case ":format":
		return "json"
	case ":agent":
		return ids["agents"]
	}
	before := path[:strings.Index(path, param)]
	segs := strings.Split(strings.Trim(before, "/"), "/")
	if id, ok := ids[segs[len(segs)-1]]; ok {
		return id
	}
	// A wake job or an admin type: none seeded. The role checks come
	// before any lookup, and an admin's 404 is fine.
	return "1"
}

type sweepResult struct {
	code                  int
	location, contentType string
	body                  string
}

// sweepDo sends one request as a browser on the same origin would (so the
// cross-origin protection lets it through to the router): a form for UI
// paths, a JSON object for the API. With user set, user and secret fill
// the login form; with only secret set, it is a bearer token.
func sweepDo(t *testing.T, c *http.Client, base, method, path, user, secret string) sweepResult {
	t.Helper()
	var body io.Reader
	ctype := ""
	if method != http.MethodGet && method != http.MethodHead {
		if strings.HasPrefix(path, "/api/") {
			body, ctype = strings.NewReader("{}"), "application/json"
		} else {
			form := url.Values{}
			if user != "" {
				form.Set("username", user)
				form.Set("password", secret)
			}
			body, ctype = strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"
		}
	}
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", base)
	if user == "" && secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return sweepResult{resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("Content-Type"), string(b)}
}

// sweepSnapshot hashes every row of every table but what merely
// authenticating moves: sessions, and the last-used and last-login times.
func sweepSnapshot(t *testing.T, db *sql.DB) string {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'sessions' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	h := sha256.New()
	for _, tbl := range tables {
		rs, err := db.Query(`SELECT * FROM "` + tbl + `"`)
		if err != nil {
			t.Fatalf("snapshot %s: %v", tbl, err)
		}
		cols, _ := rs.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		var lines []string
		for rs.Next() {
			if err := rs.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var sb strings.Builder
			for i, c := range cols {
				if c == "last_used" || c == "last_login" {
					continue
				}
				fmt.Fprintf(&sb, "%s=%v;", c, vals[i])
			}
			lines = append(lines, sb.String())
		}
		rs.Close()
		sort.Strings(lines)
		fmt.Fprintf(h, "%s:%d\n%s\n", tbl, len(lines), strings.Join(lines, "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))
}
