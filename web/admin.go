package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/typing"
)

// The admin side: SNMP credentials, users, API tokens, the audit log,
// runtime settings and admin-defined device types, as pages under /admin
// and as the API. Every page is an admin's; of the API, viewers and
// operators may list credentials (names and parameters, never secrets) and
// type rules. Secrets go in and never come out: credential secrets are
// write-only, passwords are only ever set, and an API token is shown once
// in the answer that creates it.

// AdminOptions are what the admin pages show of the process around the
// server, and the admin rules it did not get from the store.
type AdminOptions struct {
	// Version of lanscout, shown on the settings page.
	Version string
	// TLSFingerprints of the server's certificate (SHA256:base64 and
	// colon-separated hex), for people setting up agents and browsers.
	TLSFingerprints []string
	// Config lists the settings that come from the configuration file,
	// LANSCOUT_* variables and flags: shown read-only.
	Config []ConfigSetting
	// FileRules are the admin rules of the configured rules file. Scans try
	// them before the rules stored from the UI; testing a draft on a device
	// does the same, so the test says what the next scan will.
	FileRules []typing.Rule
}

// ConfigSetting is one setting fixed at start.
type ConfigSetting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func init() {
	// Page titles of the admin pages, beside pages.go's own.
	for page, title := range map[string]string{
		"admin.html": "Admin", "credentials.html": "SNMP credentials", "users.html": "Users",
		"tokens.html": "API tokens", "audit.html": "Audit log", "settings.html": "Settings",
		"types.html": "Device types", "admin_type.html": "Device type",
	} {
		pageTitles[page] = title
	}
}

func (s *Server) adminRoutes(ui, api *gin.RouterGroup) {
	admin := s.requireRole(inventory.RoleAdmin)

	adm := ui.Group("/admin", admin)
	adm.GET("", s.adminPage)
	adm.GET("/credentials", s.credentialsPage)
	adm.POST("/credentials", s.putCredentialForm)
	adm.POST("/credentials/delete", s.deleteCredentialForm)
	adm.GET("/users", s.usersPage)
	adm.POST("/users", s.createUserForm)
	adm.POST("/users/:id", s.updateUserForm)
	adm.POST("/users/:id/password", s.passwordForm)
	adm.POST("/users/:id/delete", s.deleteUserForm)
	adm.GET("/tokens", s.tokensPage)
	adm.POST("/tokens", s.createTokenForm)
	adm.POST("/tokens/:id/revoke", s.revokeTokenForm)
	adm.GET("/audit", s.auditPage)
	adm.GET("/settings", s.settingsPage)
	adm.POST("/settings", s.settingsForm)
	adm.GET("/types", s.typesPage)
	adm.GET("/types/new", s.newTypePage)
	adm.POST("/types/new", s.typeForm)
	adm.GET("/types/:id", s.typePage)
	adm.POST("/types/:id", s.typeForm)
	adm.POST("/types/:id/delete", s.deleteTypeForm)
	adm.POST("/types/reclassify", s.reclassifyForm)

	api.GET("/credentials", s.apiCredentials)
	api.POST("/credentials", admin, s.apiCreateCredential)
	api.GET("/credentials/:name", s.apiCredential)
	api.PUT("/credentials/:name", admin, s.apiPutCredential)
	api.DELETE("/credentials/:name", admin, s.apiDeleteCredential)

	api.GET("/users", admin, s.apiUsers)
	api.POST("/users", admin, s.apiCreateUser)
	api.GET("/users/:id", admin, s.apiUser)
	api.PATCH("/users/:id", admin, s.apiUpdateUser)
	api.PUT("/users/:id/password", admin, s.apiSetPassword)
	api.DELETE("/users/:id", admin, s.apiDeleteUser)

	api.GET("/tokens", admin, s.apiTokens)
	api.POST("/tokens", admin, s.apiCreateToken)
	api.DELETE("/tokens/:id", admin, s.apiRevokeToken)

	api.GET("/audit", admin, s.apiAudit)

	api.GET("/settings", admin, s.apiSettings)
	api.PUT("/settings", admin, s.apiPutSettings)

	api.GET("/types", s.apiTypes)
	api.POST("/types", admin, s.apiCreateType)
	api.POST("/types/test", admin, s.apiTestType)
	api.POST("/types/reclassify", admin, s.apiReclassify)
	api.GET("/types/:id", s.apiType)
	api.PUT("/types/:id", admin, s.apiUpdateType)
	api.DELETE("/types/:id", admin, s.apiDeleteType)
}

// adminHub is the /admin page: what there is to administer, with counts.
type adminHub struct {
	Credentials, Users, Tokens, Types int
	RecentAudit                       []inventory.AuditEntry
}

func (s *Server) adminPage(c *gin.Context) {
	ctx := c.Request.Context()
	var d adminHub
	creds, err := s.store.Credentials(ctx)
	if err != nil {
		s.pageError(c, err)
		return
	}
	users, err := s.store.Users(ctx)
	if err != nil {
		s.pageError(c, err)
		return
	}
	toks, err := s.store.APITokens(ctx)
	if err != nil {
		s.pageError(c, err)
		return
	}
	rules, err := s.store.TypeRules(ctx)
	if err != nil {
		s.pageError(c, err)
		return
	}
	for _, t := range toks {
		if !t.Revoked {
			d.Tokens++
		}
	}
	d.Credentials, d.Users, d.Types = len(creds), len(users), len(rules)
	if d.RecentAudit, _, err = s.store.AuditLog(ctx, inventory.AuditQuery{Limit: 8}); err != nil {
		s.pageError(c, err)
		return
	}
	s.render(c, http.StatusOK, "admin.html", d)
}

// listView is a page of a list as the API answers it.
type listView[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
	Page  int `json:"page"`
	Limit int `json:"limit"`
}

// pageParams reads page (from 1) and limit (1 to 1000) from the query.
func pageParams(c *gin.Context, defLimit int) (page, limit int, err error) {
	page, limit = 1, defLimit
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return 0, 0, fmt.Errorf("limit %q is not between 1 and 1000", v)
		}
		limit = n
	}
	if v := c.Query("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1_000_000 {
			return 0, 0, fmt.Errorf("page %q is not a positive number", v)
		}
		page = n
	}
	return page, limit, nil
}

// pageOf answers one page of a list the store returns whole (users,
// tokens, credentials, rules: tens of rows, not thousands).
func pageOf[T any](c *gin.Context, items []T) {
	page, limit, err := pageParams(c, 100)
	if err != nil {
		apiError(c, http.StatusBadRequest, err.Error())
		return
	}
	v := listView[T]{Items: []T{}, Total: len(items), Page: page, Limit: limit}
	if from := (page - 1) * limit; from < len(items) {
		v.Items = items[from:min(from+limit, len(items))]
	}
	c.JSON(http.StatusOK, v)
}

// formError is what an admin form shows for a store error: the store's own
// words for invalid input and conflicts; anything else is the error page.
func (s *Server) formError(c *gin.Context, err error) (string, bool) {
	if errors.Is(err, inventory.ErrInvalid) || errors.Is(err, inventory.ErrConflict) {
		return plainError(err), true
	}
	if errors.Is(err, inventory.ErrNotFound) {
		return "It no longer exists; someone may have deleted it.", true
	}
	s.pageError(c, err)
	return "", false
}

// redirectDone sends a form back to its page with a notice key.
func redirectDone(c *gin.Context, path, done string) {
	c.Redirect(http.StatusSeeOther, path+"?done="+url.QueryEscape(done))
}

// parseExpiry reads a lifetime: Go durations ("720h") and whole days
// ("90d"); "", "0", "never" and "none" mean no expiry.
func parseExpiry(s string) (time.Duration, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	switch s {
	case "", "0", "never", "none":
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 || n > 3650 {
			return 0, fmt.Errorf("%q is not a number of days between 1 and 3650", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Minute {
		return 0, fmt.Errorf("%q is not a lifetime such as 90d or 12h (at least 1m), or never", s)
	}
	return d, nil
}

// formatExpiry writes a lifetime the way parseExpiry reads it.
func formatExpiry(d time.Duration) string {
	switch {
	case d <= 0:
		return "never"
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// userNames maps user ids to names, for lists that store the id.
func (s *Server) userNames(ctx context.Context) (map[int64]string, error) {
	users, err := s.store.Users(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[int64]string, len(users))
	for _, u := range users {
		m[u.ID] = u.Username
	}
	return m, nil
}
