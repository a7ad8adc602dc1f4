package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/lanscout/lanscout/inventory"
)

type openAPIParam struct {
	Ref  string `yaml:"$ref"`
	Name string `yaml:"name"`
	In   string `yaml:"in"`
}

type openAPIOp struct {
	OperationID string                 `yaml:"operationId"`
	Summary     string                 `yaml:"summary"`
	Role        string                 `yaml:"x-lanscout-role"`
	Parameters  []openAPIParam         `yaml:"parameters"`
	Responses   map[string]interface{} `yaml:"responses"`
}

type openAPIDocument struct {
	OpenAPI    string                          `yaml:"openapi"`
	Paths      map[string]map[string]yaml.Node `yaml:"paths"`
	Components struct {
		Parameters map[string]openAPIParam `yaml:"parameters"`
		Schemas    map[string]yaml.Node    `yaml:"schemas"`
		Responses  map[string]yaml.Node    `yaml:"responses"`
	} `yaml:"components"`
}

var ginParam = regexp.MustCompile(`[:*]([A-Za-z_]+)`)

// openAPIPath turns a gin route under /api/v1 into its OpenAPI path.
func openAPIPath(route string) string {
	return ginParam.ReplaceAllString(strings.TrimPrefix(route, "/api/v1"), "{$1}")
}

// TestOpenAPIMatchesRoutes: every route the server registers under
// /api/v1 is in openapi.yaml and every documented operation is a route;
// each operation has an id, a summary, its path parameters and the 401
// (and 403) answers; and the role it documents is the role the server
// enforces: a viewer's token is refused with 403 exactly where the role is
// operator or admin, an operator's exactly where it is admin.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc openAPIDocument
	if err := yaml.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	// A plain scalar with ", " inside a flow mapping splits into a key
	// with no value: nothing in the document is null on purpose.
	var tree any
	if err := yaml.Unmarshal(openAPIDoc, &tree); err != nil {
		t.Fatal(err)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if x == nil {
					t.Errorf("openapi.yaml: %s/%s is null; quote the text before it", path, k)
				}
				walk(path+"/"+k, x)
			}
		case []any:
			for i, x := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), x)
			}
		}
	}
	walk("", tree)
	refs := regexp.MustCompile(`\$ref: "#/components/(schemas|responses|parameters)/([A-Za-z]+)"`).FindAllStringSubmatch(string(openAPIDoc), -1)
	for _, m := range refs {
		var ok bool
		switch m[1] {
		case "schemas":
			_, ok = doc.Components.Schemas[m[2]]
		case "responses":
			_, ok = doc.Components.Responses[m[2]]
		case "parameters":
			_, ok = doc.Components.Parameters[m[2]]
		}
		if !ok {
			t.Errorf("openapi.yaml refers to the missing %s %s", m[1], m[2])
		}
	}

	ctx := context.Background()
	store, err := inventory.OpenSQLite(ctx, t.TempDir(), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	s, err := New(Options{Store: store, ScheduleCheck: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		s.Close(cctx)
	})
	tokens := map[inventory.Role]string{}
	for _, r := range []inventory.Role{inventory.RoleViewer, inventory.RoleOperator} {
		if tokens[r], _, err = store.CreateAPIToken(ctx, string(r), r, 0, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}

	ops := map[string]openAPIOp{} // "GET /devices/{id}"
	ids := map[string]string{}
	for p, methods := range doc.Paths {
		var shared []openAPIParam
		if n, ok := methods["parameters"]; ok {
			if err := n.Decode(&shared); err != nil {
				t.Fatalf("%s parameters: %v", p, err)
			}
		}
		for m, n := range methods {
			if m == "parameters" {
				continue
			}
			var op openAPIOp
			if err := n.Decode(&op); err != nil {
				t.Fatalf("%s %s: %v", m, p, err)
			}
			op.Parameters = append(op.Parameters, shared...)
			key := strings.ToUpper(m) + " " + p
			ops[key] = op
			if prev, dup := ids[op.OperationID]; dup || op.OperationID == "" {
				t.Errorf("%s: operationId %q empty or also used by %s", key, op.OperationID, prev)
			}
			ids[op.OperationID] = key
		}
	}

	seen := map[string]bool{}
	var routes []ginRoute
	for _, r := range s.engine.Routes() {
		if strings.HasPrefix(r.Path, "/api/v1/") {
			routes = append(routes, ginRoute{r.Method, r.Path})
		}
	}
	sort.Slice(routes, func(i, j int) bool { return routes[i].path+routes[i].method < routes[j].path+routes[j].method })
	for _, r := range routes {
		p := openAPIPath(r.path)
		key := r.method + " " + p
		seen[key] = true
		op, ok := ops[key]
		if !ok {
			t.Errorf("%s %s is served but not in openapi.yaml", r.method, r.path)
			continue
		}
		if op.Summary == "" {
			t.Errorf("%s: no summary", key)
		}
		declared := map[string]bool{}
		for _, prm := range op.Parameters {
			if prm.Ref != "" {
				prm = doc.Components.Parameters[strings.TrimPrefix(prm.Ref, "#/components/parameters/")]
			}
			if prm.In == "path" {
				declared[prm.Name] = true
			}
		}
		for _, m := range ginParam.FindAllStringSubmatch(r.path, -1) {
			if !declared[m[1]] {
				t.Errorf("%s: path parameter %s not declared", key, m[1])
			}
		}
		if _, ok := op.Responses["401"]; !ok {
			t.Errorf("%s: no 401 answer documented", key)
		}
		if op.Role != "viewer" {
			if _, ok := op.Responses["403"]; !ok {
				t.Errorf("%s: role %s but no 403 answer documented", key, op.Role)
			}
		}

		// The role, against the server.
		target := "/api/v1" + ginParam.ReplaceAllStringFunc(r.path[len("/api/v1"):], func(m string) string {
			if m == ":format" {
				return "json"
			}
			if m == ":name" {
				return "no-such-name"
			}
			return "999999"
		})
		status := func(role inventory.Role) int {
			req := httptest.NewRequest(r.method, target, nil)
			req.Header.Set("Authorization", "Bearer "+tokens[role])
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			return rec.Code
		}
		switch op.Role {
		case "viewer":
			if r.method != http.MethodGet {
				// A viewer write would run; none should exist.
				t.Errorf("%s is a write documented for viewers", key)
				continue
			}
			if code := status(inventory.RoleViewer); code == http.StatusForbidden || code == http.StatusUnauthorized {
				t.Errorf("%s documented for viewers, but a viewer gets %d", key, code)
			}
		case "operator":
			if code := status(inventory.RoleViewer); code != http.StatusForbidden {
				t.Errorf("%s documented for operators, but a viewer gets %d", key, code)
			}
		case "admin":
			if code := status(inventory.RoleOperator); code != http.StatusForbidden {
				t.Errorf("%s documented for admins, but an operator gets %d", key, code)
			}
		default:
			t.Errorf("%s: x-lanscout-role %q, want viewer, operator or admin", key, op.Role)
		}
	}
	var stale []string
	for key := range ops {
		if !seen[key] {
			stale = append(stale, key)
		}
	}
	slices.Sort(stale)
	for _, key := range stale {
		t.Errorf("openapi.yaml documents %s, which the server does not serve", key)
	}
	t.Logf("%d routes under /api/v1, %d documented operations", len(routes), len(ops))

	// The document is served as it is embedded, to callers who logged in.
	req := httptest.NewRequest(http.MethodGet, "/api/v1/openapi.yaml", nil)
	req.Header.Set("Authorization", "Bearer "+tokens[inventory.RoleViewer])
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/yaml") ||
		rec.Body.String() != string(openAPIDoc) {
		t.Errorf("GET /api/v1/openapi.yaml: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/openapi.yaml", nil))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/openapi.yaml without a token: %d, want 401", rec.Code)
	}
}

type ginRoute struct{ method, path string }
