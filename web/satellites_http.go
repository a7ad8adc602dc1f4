package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/satellite"
)

func init() {
	pageTitles["satellites.html"] = "Satellites"
	pageTitles["satellite.html"] = "Satellite"
}

// satelliteRoutes: configuring satellites is an admin's job, in the UI and
// the API; every change and every test is audited. The private key is
// write-only: no page or answer ever shows it back.
func (s *Server) satelliteRoutes(ui, api *gin.RouterGroup) {
	admin := s.requireRole(inventory.RoleAdmin)
	pg := ui.Group("/admin/satellites", admin)
	pg.GET("", s.satellitesPage)
	pg.POST("", s.createSatelliteForm)
	pg.GET("/:id", s.satellitePage)
	pg.POST("/:id", s.updateSatelliteForm)
	pg.POST("/:id/delete", s.deleteSatelliteForm)
	pg.POST("/:id/test", s.testSatelliteForm)
	pg.POST("/:id/trust", s.trustSatelliteForm)

	a := api.Group("/satellites", admin)
	a.GET("", s.apiSatellites)
	a.POST("", s.apiCreateSatellite)
	a.GET("/:id", s.apiSatellite)
	a.PUT("/:id", s.apiUpdateSatellite)
	a.DELETE("/:id", s.apiDeleteSatellite)
	a.POST("/:id/test", s.apiTestSatellite)
	a.POST("/:id/trust", s.apiTrustSatellite)
}

// satelliteInput is a satellite as the API and the forms take it.
// PrivateKey is write-only: nil keeps the stored key, "" removes it.
// HostKey, when given, is trusted as written: an admin typing it is the
// confirmation (as in the config file).
type satelliteInput struct {
	Name        string   `json:"name"`
	Address     string   `json:"address"`
	Port        int      `json:"port"`
	User        string   `json:"user"`
	PrivateKey  *string  `json:"private_key"`
	KeyFile     string   `json:"key_file"`
	HostKey     string   `json:"host_key"`
	Subnets     []string `json:"subnets"`
	WakeCommand string   `json:"wake_command"`
	Interface   string   `json:"iface"`
}

func satelliteInputOf(sat inventory.Satellite) satelliteInput {
	return satelliteInput{Name: sat.Name, Address: sat.Address, Port: sat.Port, User: sat.User, KeyFile: sat.KeyFile,
		Subnets: sat.Subnets, WakeCommand: sat.WakeCommand, Interface: sat.Interface}
}

// check validates what the store does not: the private key, the key file
// and the wake command's syntax. It returns the key bytes to store.
func (in satelliteInput) check(creating bool) ([]byte, error) {
	var key []byte
	if in.PrivateKey != nil && strings.TrimSpace(*in.PrivateKey) != "" {
		key = []byte(strings.TrimSpace(*in.PrivateKey) + "\n")
		if _, err := satellite.ParsePrivateKey(key); err != nil {
			return nil, err
		}
	} else if in.PrivateKey != nil {
		key = []byte{}
	}
	if in.KeyFile != "" && len(key) == 0 {
		if _, err := satellite.LoadPrivateKey(in.KeyFile); err != nil {
			// Say no more than that: the path is the admin's, its
			// content is not for the page.
			return nil, fmt.Errorf("key_file %s: not a readable, unencrypted private key", in.KeyFile)
		}
	}
	if creating && len(key) == 0 && in.KeyFile == "" {
		return nil, errors.New("give a private_key (stored sealed) or a key_file on the server")
	}
	if in.WakeCommand != "" {
		if _, err := satellite.ParseTemplate(in.WakeCommand); err != nil {
			return nil, err
		}
	}
	if in.HostKey != "" {
		if _, err := satellite.ParseHostKey(in.HostKey); err != nil {
			return nil, err
		}
	}
	if !creating && in.PrivateKey == nil {
		return nil, nil // keep
	}
	return key, nil
}

func (in satelliteInput) satellite() inventory.Satellite {
	return inventory.Satellite{Name: in.Name, Address: in.Address, Port: in.Port, User: in.User, KeyFile: in.KeyFile,
		Subnets: in.Subnets, WakeCommand: in.WakeCommand, Interface: in.Interface, Source: "api"}
}

// saveSatellite creates (id 0) or updates a satellite from in, trusting
// its host key when one was typed, and audits it.
func (s *Server) saveSatellite(c *gin.Context, id int64, in satelliteInput) (inventory.Satellite, error) {
	ctx := c.Request.Context()
	key, err := in.check(id == 0)
	if err != nil {
		return inventory.Satellite{}, fmt.Errorf("%w: %v", inventory.ErrInvalid, err)
	}
	sat := in.satellite()
	action := "satellite.create"
	if id == 0 {
		sat, err = s.store.CreateSatellite(ctx, sat, key)
	} else {
		sat.ID, action = id, "satellite.update"
		sat, err = s.store.UpdateSatellite(ctx, sat, key)
	}
	clear(key)
	if err != nil {
		return sat, err
	}
	details := satelliteDetails(sat)
	if in.PrivateKey != nil {
		details += "; private key replaced"
	}
	s.audit(c, action, fmt.Sprintf("satellite/%d", sat.ID), details)
	if in.HostKey != "" {
		k, _ := satellite.ParseHostKey(in.HostKey)
		if line := satellite.FormatHostKey(k); line != sat.HostKey {
			if sat, err = s.store.SetSatelliteTrustedKey(ctx, sat.ID, line, satellite.Fingerprint(k)); err != nil {
				return sat, err
			}
			s.audit(c, "satellite.trust", fmt.Sprintf("satellite/%d", sat.ID), sat.Name+" host key "+sat.Fingerprint+" given by hand")
		}
	}
	return sat, nil
}

// testSatellite probes a satellite: the key it offers becomes the pending
// key when it is not the trusted one, a changed key is audited loudly, and
// a login records whether lanscout is installed there.
func (s *Server) testSatellite(c *gin.Context, sat inventory.Satellite) (satellite.ProbeResult, inventory.Satellite, error) {
	ctx := c.Request.Context()
	// Without a usable key the probe still fetches the host key; the
	// reason it could not log in is shown with it.
	cfg, cfgErr := s.satelliteConfig(ctx, sat)
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := satellite.Probe(pctx, cfg)
	if err == nil && cfgErr != nil && !res.LoggedIn && res.LoginError == "" {
		res.LoginError = cfgErr.Error()
	}
	target := fmt.Sprintf("satellite/%d", sat.ID)
	if err != nil {
		s.audit(c, "satellite.test", target, sat.Name+": "+err.Error())
		return res, sat, err
	}
	switch {
	case res.Changed:
		s.log.Error("satellite host key changed", "satellite", sat.Name, "trusted", res.TrustedKey, "offered", res.Fingerprint)
		s.audit(c, "satellite.host_key_changed", target, fmt.Sprintf("HOST KEY CHANGED for %s: trusted %s, offered %s", sat.Name, res.TrustedKey, res.Fingerprint))
	case !res.Trusted:
		s.audit(c, "satellite.test", target, sat.Name+": new host key "+res.Fingerprint+" waits for confirmation")
	default:
		s.audit(c, "satellite.test", target, fmt.Sprintf("%s: host key trusted, logged in %v, wake program %q, lanscout %q",
			sat.Name, res.LoggedIn, res.WakeProgramPath, res.LanscoutPath))
	}
	switch {
	case !res.Trusted && res.HostKey != "":
		if sat, err = s.store.SetSatellitePendingKey(ctx, sat.ID, res.HostKey, res.Fingerprint); err != nil {
			return res, sat, err
		}
	case res.Trusted && sat.PendingHostKey != "":
		// The host shows its trusted key again: a key pending from an
		// earlier test is no longer a question.
		if sat, err = s.store.SetSatelliteTrustedKey(ctx, sat.ID, sat.HostKey, sat.Fingerprint); err != nil {
			return res, sat, err
		}
	}
	if res.LoggedIn && sat.HasLanscout != (res.LanscoutPath != "") {
		if err := s.store.SetSatelliteLanscout(ctx, sat.ID, res.LanscoutPath != ""); err != nil {
			return res, sat, err
		}
		sat.HasLanscout = res.LanscoutPath != ""
	}
	return res, sat, nil
}

// API.

func (s *Server) apiSatellites(c *gin.Context) {
	sats, err := s.store.Satellites(c.Request.Context())
	if err != nil {
		s.storeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": sats})
}

func (s *Server) apiSatellite(c *gin.Context) { serveByID(s, c, s.store.Satellite) }

func (s *Server) apiCreateSatellite(c *gin.Context) {
	var in satelliteInput
	if !decodeJSON(c, &in) {
		return
	}
	sat, err := s.saveSatellite(c, 0, in)
	if err != nil {
		s.storeError(c, err)
		return
	}
	c.Header("Location", fmt.Sprintf("/api/v1/satellites/%d", sat.ID))
	c.JSON(http.StatusCreated, sat)
}

func (s *Server) apiUpdateSatellite(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	old, err := s.store.Satellite(c.Request.Context(), id)
	if err != nil {
		s.storeError(c, err)
		return
	}
	in := satelliteInputOf(old)
	if !decodeJSON(c, &in) {
		return
	}
	sat, err := s.saveSatellite(c, id, in)
	if err != nil {
		s.storeError(c, err)
		return
	}
	c.JSON(http.StatusOK, sat)
}

func (s *Server) apiDeleteSatellite(c *gin.Context) {
	apiDeleteByID(s, c, "satellite.delete", "satellite", s.store.Satellite, s.store.DeleteSatellite,
		func(sat inventory.Satellite) string { return sat.Name })
}

// satelliteTestView is the answer of a test: what the satellite showed and
// the satellite as stored afterwards.
type satelliteTestView struct {
	Probe     satellite.ProbeResult `json:"probe"`
	Satellite inventory.Satellite   `json:"satellite"`
	Error     string                `json:"error,omitempty"`
}

func (s *Server) apiTestSatellite(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	sat, err := s.store.Satellite(c.Request.Context(), id)
	if err != nil {
		s.storeError(c, err)
		return
	}
	res, sat, err := s.testSatellite(c, sat)
	v := satelliteTestView{Probe: res, Satellite: sat}
	if err != nil {
		// The satellite could not be reached: a fact about it, not a
		// failure of the request.
		v.Error = err.Error()
	}
	c.JSON(http.StatusOK, v)
}

func (s *Server) apiTrustSatellite(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	var in struct {
		Fingerprint string `json:"fingerprint"`
	}
	if !decodeJSON(c, &in) {
		return
	}
	sat, err := s.store.TrustSatelliteKey(c.Request.Context(), id, strings.TrimSpace(in.Fingerprint))
	if err != nil {
		s.storeError(c, err)
		return
	}
	s.audit(c, "satellite.trust", fmt.Sprintf("satellite/%d", id), sat.Name+" host key "+sat.Fingerprint+" confirmed")
	c.JSON(http.StatusOK, sat)
}

// Pages.

type satellitesData struct {
	Satellites []inventory.Satellite
	Form       satelliteForm
	Error      string
	Notice     string
}

type satelliteData struct {
	Satellite inventory.Satellite
	Form      satelliteForm
	Probe     *satellite.ProbeResult
	ProbeErr  string
	Error     string
	Notice    string
}

// satelliteForm is what the forms post; the private key field is always
// rendered empty.
type satelliteForm struct {
	Action                                                                       string
	Name, Address, Port, User, KeyFile, HostKey, Subnets, WakeCommand, Interface string
}

// DefaultWake is the wake command an empty field stands for.
func (satelliteForm) DefaultWake() string { return satellite.DefaultWakeCommand }

// PasswordWake is the wake command that carries a SecureOn password.
func (satelliteForm) PasswordWake() string { return satellite.LanscoutPasswordWakeCommand }

func satelliteFormOf(sat inventory.Satellite) satelliteForm {
	return satelliteForm{Action: fmt.Sprintf("/admin/satellites/%d", sat.ID), Name: sat.Name, Address: sat.Address, Port: strconv.Itoa(sat.Port), User: sat.User,
		KeyFile: sat.KeyFile, Subnets: strings.Join(sat.Subnets, " "), WakeCommand: sat.WakeCommand, Interface: sat.Interface}
}

func postedSatellite(c *gin.Context) (satelliteForm, satelliteInput, error) {
	f := satelliteForm{Name: c.PostForm("name"), Address: c.PostForm("address"), Port: strings.TrimSpace(c.PostForm("port")),
		User: c.PostForm("user"), KeyFile: strings.TrimSpace(c.PostForm("key_file")), HostKey: strings.TrimSpace(c.PostForm("host_key")),
		Subnets: c.PostForm("subnets"), WakeCommand: c.PostForm("wake_command"), Interface: strings.TrimSpace(c.PostForm("iface"))}
	in := satelliteInput{Name: f.Name, Address: f.Address, User: f.User, KeyFile: f.KeyFile, HostKey: f.HostKey,
		WakeCommand: f.WakeCommand, Interface: f.Interface, Subnets: strings.FieldsFunc(f.Subnets, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })}
	if f.Port != "" {
		p, err := strconv.Atoi(f.Port)
		if err != nil {
			return f, in, fmt.Errorf("port %q is not a number", f.Port)
		}
		in.Port = p
	}
	if k := c.PostForm("private_key"); strings.TrimSpace(k) != "" {
		in.PrivateKey = &k
	} else if c.PostForm("remove_key") == "on" {
		empty := ""
		in.PrivateKey = &empty
	}
	return f, in, nil
}

func (s *Server) satellitesPage(c *gin.Context) {
	s.renderSatellites(c, http.StatusOK, satelliteForm{Action: "/admin/satellites", Port: "22"}, "")
}

func (s *Server) renderSatellites(c *gin.Context, status int, f satelliteForm, errMsg string) {
	sats, err := s.store.Satellites(c.Request.Context())
	if err != nil {
		s.pageError(c, err)
		return
	}
	d := satellitesData{Satellites: sats, Form: f, Error: errMsg}
	if c.Query("done") == "deleted" {
		d.Notice = "Satellite deleted."
	}
	s.render(c, status, "satellites.html", d)
}

func (s *Server) createSatelliteForm(c *gin.Context) {
	f, in, err := postedSatellite(c)
	if err == nil {
		var sat inventory.Satellite
		if sat, err = s.saveSatellite(c, 0, in); err == nil {
			c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/satellites/%d?done=created", sat.ID))
			return
		}
		if !errors.Is(err, inventory.ErrInvalid) && !errors.Is(err, inventory.ErrConflict) {
			s.pageError(c, err)
			return
		}
	}
	f.Action = "/admin/satellites"
	s.renderSatellites(c, http.StatusBadRequest, f, plainError(err))
}

// satelliteOf loads the satellite of the page's :id, answering 404 itself.
func (s *Server) satelliteOf(c *gin.Context) (inventory.Satellite, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	var sat inventory.Satellite
	if err == nil {
		sat, err = s.store.Satellite(c.Request.Context(), id)
	}
	if err != nil {
		s.renderStatus(c, http.StatusNotFound, "Not found", "There is no such satellite.")
		return sat, false
	}
	return sat, true
}

func (s *Server) satellitePage(c *gin.Context) {
	sat, ok := s.satelliteOf(c)
	if !ok {
		return
	}
	d := satelliteData{Satellite: sat, Form: satelliteFormOf(sat)}
	switch c.Query("done") {
	case "created":
		d.Notice = "Satellite added. Test the connection to see its host key, then trust it."
	case "updated":
		d.Notice = "Saved."
	case "trusted":
		d.Notice = "Host key trusted: wakes may now go through this satellite."
	}
	s.render(c, http.StatusOK, "satellite.html", d)
}

func (s *Server) updateSatelliteForm(c *gin.Context) {
	sat, ok := s.satelliteOf(c)
	if !ok {
		return
	}
	f, in, err := postedSatellite(c)
	if err == nil {
		if _, err = s.saveSatellite(c, sat.ID, in); err == nil {
			c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/satellites/%d?done=updated", sat.ID))
			return
		}
		if !errors.Is(err, inventory.ErrInvalid) && !errors.Is(err, inventory.ErrConflict) {
			s.pageError(c, err)
			return
		}
	}
	f.Action = fmt.Sprintf("/admin/satellites/%d", sat.ID)
	s.render(c, http.StatusBadRequest, "satellite.html", satelliteData{Satellite: sat, Form: f, Error: plainError(err)})
}

func (s *Server) deleteSatelliteForm(c *gin.Context) {
	sat, ok := s.satelliteOf(c)
	if !ok {
		return
	}
	if err := s.store.DeleteSatellite(c.Request.Context(), sat.ID); err != nil {
		s.pageError(c, err)
		return
	}
	s.audit(c, "satellite.delete", fmt.Sprintf("satellite/%d", sat.ID), sat.Name)
	c.Redirect(http.StatusSeeOther, "/admin/satellites?done=deleted")
}

func (s *Server) testSatelliteForm(c *gin.Context) {
	sat, ok := s.satelliteOf(c)
	if !ok {
		return
	}
	res, sat, err := s.testSatellite(c, sat)
	d := satelliteData{Satellite: sat, Form: satelliteFormOf(sat), Probe: &res}
	if err != nil {
		d.ProbeErr = err.Error()
	}
	s.render(c, http.StatusOK, "satellite.html", d)
}

func (s *Server) trustSatelliteForm(c *gin.Context) {
	sat, ok := s.satelliteOf(c)
	if !ok {
		return
	}
	sat2, err := s.store.TrustSatelliteKey(c.Request.Context(), sat.ID, strings.TrimSpace(c.PostForm("fingerprint")))
	if err != nil {
		if !errors.Is(err, inventory.ErrConflict) {
			s.pageError(c, err)
			return
		}
		s.render(c, http.StatusConflict, "satellite.html", satelliteData{Satellite: sat, Form: satelliteFormOf(sat),
			Error: plainError(err)})
		return
	}
	s.audit(c, "satellite.trust", fmt.Sprintf("satellite/%d", sat.ID), sat2.Name+" host key "+sat2.Fingerprint+" confirmed")
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/satellites/%d?done=trusted", sat.ID))
}
