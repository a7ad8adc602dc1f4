package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lanscout/lanscout/inventory"
)

// Settings: what admins change at runtime (defaults of new subnets, the
// lifetime proposed for new API tokens), kept in the store, beside what was
// fixed at start (configuration file, environment, flags), shown read-only.

// settingsInput is the editable part, as the API writes it.
type settingsInput struct {
	DefaultMethod      string       `json:"default_method"`
	DefaultGoneAfter   int          `json:"default_gone_after"`
	DefaultSchedule    scheduleView `json:"default_schedule"`
	DefaultCredentials []string     `json:"default_credentials"`
	TokenExpiry        string       `json:"token_expiry"` // "90d", "12h" or "never"
}

type settingsView struct {
	settingsInput
	Updated   time.Time `json:"updated,omitzero"`
	UpdatedBy string    `json:"updated_by,omitempty"`
}

// serverInfo is what GET /settings adds about the running server.
type serverInfo struct {
	Version         string          `json:"version"`
	TLSFingerprints []string        `json:"tls_fingerprints"`
	SessionTTL      string          `json:"session_ttl"`
	Config          []ConfigSetting `json:"config"`
}

type settingsAnswer struct {
	Settings settingsView `json:"settings"`
	Server   serverInfo   `json:"server"`
}

func viewSettings(st inventory.Settings) settingsView {
	v := settingsView{settingsInput: settingsInput{DefaultMethod: st.DefaultMethod, DefaultGoneAfter: st.DefaultGoneAfter,
		DefaultSchedule: scheduleView{At: st.DefaultSchedule.At}, DefaultCredentials: st.DefaultCredentials,
		TokenExpiry: formatExpiry(st.TokenExpiry)}, Updated: st.Updated, UpdatedBy: st.UpdatedBy}
	if st.DefaultSchedule.Every > 0 {
		v.DefaultSchedule.Every = st.DefaultSchedule.Every.String()
	}
	return v
}

func (in settingsInput) settings() (inventory.Settings, error) {
	st := inventory.Settings{DefaultMethod: in.DefaultMethod, DefaultGoneAfter: in.DefaultGoneAfter,
		DefaultSchedule: inventory.Schedule{At: strings.TrimSpace(in.DefaultSchedule.At)}, DefaultCredentials: in.DefaultCredentials}
	if e := strings.TrimSpace(in.DefaultSchedule.Every); e != "" {
		d, err := time.ParseDuration(e)
		if err != nil {
			return st, fmt.Errorf("%w: default schedule every %q is not a duration such as 30m or 6h", inventory.ErrInvalid, e)
		}
		st.DefaultSchedule.Every = d
	}
	d, err := parseExpiry(in.TokenExpiry)
	if err != nil {
		return st, fmt.Errorf("%w: token expiry %v", inventory.ErrInvalid, err)
	}
	st.TokenExpiry = d
	return st, nil
}

func (s *Server) serverInfo() serverInfo {
	return serverInfo{Version: s.opts.Admin.Version, TLSFingerprints: append([]string{}, s.opts.Admin.TLSFingerprints...),
		SessionTTL: s.opts.SessionTTL.String(), Config: append([]ConfigSetting{}, s.opts.Admin.Config...)}
}

func (s *Server) apiSettings(c *gin.Context) {
	st, err := s.store.Settings(c.Request.Context())
	if err != nil {
		s.storeError(c, err)
		return
	}
	c.JSON(http.StatusOK, settingsAnswer{Settings: viewSettings(st), Server: s.serverInfo()})
}

// saveSettings stores st and audits what changed.
func (s *Server) saveSettings(c *gin.Context, old, st inventory.Settings) (inventory.Settings, error) {
	saved, err := s.store.PutSettings(c.Request.Context(), st, principalOf(c).actor())
	if err != nil {
		return saved, err
	}
	a, b := viewSettings(old).settingsInput, viewSettings(saved).settingsInput
	var changes []string
	add := func(name string, x, y any) {
		if fmt.Sprint(x) != fmt.Sprint(y) {
			changes = append(changes, fmt.Sprintf("%s %v → %v", name, x, y))
		}
	}
	add("default method", a.DefaultMethod, b.DefaultMethod)
	add("default gone-after", a.DefaultGoneAfter, b.DefaultGoneAfter)
	add("default schedule", a.DefaultSchedule, b.DefaultSchedule)
	add("default credentials", a.DefaultCredentials, b.DefaultCredentials)
	add("token expiry", a.TokenExpiry, b.TokenExpiry)
	if len(changes) == 0 {
		changes = append(changes, "no change")
	}
	s.audit(c, "settings.update", "settings", strings.Join(changes, "; "))
	return saved, nil
}

func (s *Server) apiPutSettings(c *gin.Context) {
	old, err := s.store.Settings(c.Request.Context())
	if err != nil {
		s.storeError(c, err)
		return
	}
	in := viewSettings(old).settingsInput
	// A default credential deleted since it was chosen must not make every
	// later save fail: start from those that still exist.
	if in.DefaultCredentials, err = s.existingCredentials(c.Request.Context(), in.DefaultCredentials); err != nil {
		s.storeError(c, err)
		return
	}
	if !decodeJSON(c, &in) {
		return
	}
	st, err := in.settings()
	if err != nil {
		s.storeError(c, err)
		return
	}
	saved, err := s.saveSettings(c, old, st)
	if err != nil {
		s.storeError(c, err)
		return
	}
	c.JSON(http.StatusOK, settingsAnswer{Settings: viewSettings(saved), Server: s.serverInfo()})
}

// newSubnetInput is a subnet creation's starting point: the settings'
// defaults, which fields the request gives override. Default credentials
// deleted since they were chosen are left out rather than failing the
// creation.
func (s *Server) newSubnetInput(ctx context.Context) (subnetInput, error) {
	st, err := s.store.Settings(ctx)
	if err != nil {
		return subnetInput{}, err
	}
	in := subnetInput{Method: st.DefaultMethod, GoneAfter: st.DefaultGoneAfter, Schedule: viewSettings(st).DefaultSchedule}
	in.Credentials, err = s.existingCredentials(ctx, st.DefaultCredentials)
	return in, err
}

// existingCredentials keeps the names of names that name a credential.
func (s *Server) existingCredentials(ctx context.Context, names []string) ([]string, error) {
	if len(names) == 0 {
		return names, nil
	}
	creds, err := s.store.Credentials(ctx)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, name := range names {
		if slices.ContainsFunc(creds, func(c inventory.Credential) bool { return c.Name == name }) {
			out = append(out, name)
		}
	}
	return out, nil
}

// The page.

type settingsData struct {
	Form        settingsInput
	Updated     time.Time
	UpdatedBy   string
	Credentials []inventory.Credential
	Methods     []string
	Server      serverInfo
	Error       string
	Notice      string
}

var scanMethods = []string{"auto", "arp", "icmp", "tcp", "snmp"}

func (s *Server) settingsPage(c *gin.Context) {
	st, err := s.store.Settings(c.Request.Context())
	if err != nil {
		s.pageError(c, err)
		return
	}
	notice := map[string]string{"saved": "Settings saved."}[c.Query("done")]
	v := viewSettings(st)
	s.renderSettings(c, http.StatusOK, settingsData{Form: v.settingsInput, Updated: v.Updated, UpdatedBy: v.UpdatedBy, Notice: notice})
}

func (s *Server) renderSettings(c *gin.Context, status int, d settingsData) {
	creds, err := s.store.Credentials(c.Request.Context())
	if err != nil {
		s.pageError(c, err)
		return
	}
	d.Credentials, d.Methods, d.Server = creds, scanMethods, s.serverInfo()
	s.render(c, status, "settings.html", d)
}

func (s *Server) settingsForm(c *gin.Context) {
	ctx := c.Request.Context()
	old, err := s.store.Settings(ctx)
	if err != nil {
		s.pageError(c, err)
		return
	}
	in := settingsInput{DefaultMethod: c.PostForm("default_method"), DefaultCredentials: c.PostFormArray("default_credentials"),
		TokenExpiry: c.PostForm("token_expiry")}
	switch c.PostForm("schedule_kind") {
	case "every":
		in.DefaultSchedule.Every = c.PostForm("schedule_every")
	case "at":
		in.DefaultSchedule.At = c.PostForm("schedule_at")
	}
	if v := strings.TrimSpace(c.PostForm("default_gone_after")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			s.renderSettings(c, http.StatusBadRequest, settingsData{Form: in, Error: fmt.Sprintf("gone after %q is not a number", v)})
			return
		}
		in.DefaultGoneAfter = n
	}
	st, err := in.settings()
	if err == nil {
		_, err = s.saveSettings(c, old, st)
	}
	if err != nil {
		if msg, ok := s.formError(c, err); ok {
			s.renderSettings(c, http.StatusBadRequest, settingsData{Form: in, Error: msg})
		}
		return
	}
	redirectDone(c, "/admin/settings", "saved")
}

// subnetFormDefaults is the subnets page's empty form: the settings'
// default method, schedule and credentials preselected.
func (s *Server) subnetFormDefaults(ctx context.Context) subnetForm {
	in, err := s.newSubnetInput(ctx)
	if err != nil {
		s.log.Warn("read subnet defaults", "err", err)
		return subnetForm{Method: "auto"}
	}
	return formOf(in)
}

// credentialChoices lists the credentials a subnet form offers; a failure
// only leaves the choice out.
func (s *Server) credentialChoices(ctx context.Context) []inventory.Credential {
	creds, err := s.store.Credentials(ctx)
	if err != nil {
		s.log.Warn("list credentials", "err", err)
	}
	return creds
}
