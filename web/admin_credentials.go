package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/snmp"
)

// SNMP credentials. Secrets are write-only: no answer carries them, and a
// form never shows them back. Replacing a credential with a secret field
// left empty keeps the stored secret of that field, when the credential
// still needs it and (for v3) its user has not changed: an admin changing
// a context name or a privacy protocol need not retype pass phrases. To
// remove a secret, change what needs it (the version, or the protocol to
// none).

// credentialInput is what POST and PUT take.
type credentialInput struct {
	Name         string `json:"name"`
	Version      string `json:"version"` // 1, 2c or 3
	Community    string `json:"community"`
	User         string `json:"user"`
	AuthProtocol string `json:"auth_protocol"`
	AuthPassword string `json:"auth_password"`
	PrivProtocol string `json:"priv_protocol"`
	PrivPassword string `json:"priv_password"`
	Context      string `json:"context"`
}

// credential turns the input into what the store takes, or a message for
// people.
func (in credentialInput) credential() (snmp.Credential, error) {
	c := snmp.Credential{Name: strings.TrimSpace(in.Name), Community: snmp.Secret(in.Community),
		User: strings.TrimSpace(in.User), AuthPass: snmp.Secret(in.AuthPassword), PrivPass: snmp.Secret(in.PrivPassword),
		Context: strings.TrimSpace(in.Context)}
	v := in.Version
	if v == "" {
		v = "2c"
		if c.User != "" {
			v = "3"
		}
	}
	var err error
	if c.Version, err = snmp.ParseVersion(v); err != nil {
		return c, err
	}
	if c.Auth, err = snmp.ParseAuthProto(in.AuthProtocol); err != nil {
		return c, err
	}
	if c.Priv, err = snmp.ParsePrivProto(in.PrivProtocol); err != nil {
		return c, err
	}
	return c, nil
}

// keepSecrets fills the secrets c leaves empty from old, where c needs
// them and old has them. It returns the fields kept, for the audit log.
func keepSecrets(c *snmp.Credential, old snmp.Credential) []string {
	var kept []string
	switch c.Version {
	case snmp.V1, snmp.V2c:
		if c.Community == "" && old.Community != "" {
			c.Community = old.Community
			kept = append(kept, "community")
		}
	case snmp.V3:
		if old.Version != snmp.V3 || old.User != c.User {
			return nil
		}
		if c.Auth != snmp.NoAuth && c.AuthPass == "" && old.AuthPass != "" {
			c.AuthPass = old.AuthPass
			kept = append(kept, "auth password")
		}
		if c.Priv != snmp.NoPriv && c.PrivPass == "" && old.PrivPass != "" {
			c.PrivPass = old.PrivPass
			kept = append(kept, "privacy password")
		}
	}
	return kept
}

// credentialView is a credential as lists show it: no secret, and which
// subnets use it.
type credentialView struct {
	inventory.Credential
	Security string   `json:"security,omitempty"` // v3 security level
	UsedBy   []string `json:"used_by"`            // subnets (CIDRs) that name it
}

func (s *Server) credentialViews(ctx context.Context) ([]credentialView, error) {
	creds, err := s.store.Credentials(ctx)
	if err != nil {
		return nil, err
	}
	subnets, err := s.store.Subnets(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]credentialView, 0, len(creds))
	for _, cr := range creds {
		v := credentialView{Credential: cr, UsedBy: []string{}}
		v.Security = snmp.Credential{Version: cr.Version, Auth: cr.AuthProtocol, Priv: cr.PrivProtocol}.SecurityLevel()
		for _, sn := range subnets {
			if slices.Contains(sn.Credentials, cr.Name) {
				v.UsedBy = append(v.UsedBy, sn.CIDR)
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// putCredential stores c, keeping unset secrets of the credential it
// replaces. create refuses to replace.
func (s *Server) putCredential(ctx context.Context, c snmp.Credential, create bool) (inventory.Credential, bool, []string, error) {
	if c.Name == "" {
		return inventory.Credential{}, false, nil, fmt.Errorf("%w: the credential needs a name", inventory.ErrInvalid)
	}
	var kept []string
	old, err := s.store.RevealCredentials(ctx, []string{c.Name})
	replaced := err == nil && len(old) == 1
	switch {
	case replaced && create:
		return inventory.Credential{}, false, nil, fmt.Errorf("%w: a credential named %q exists; PUT replaces it", inventory.ErrConflict, c.Name)
	case replaced:
		kept = keepSecrets(&c, old[0])
	case err != nil && !errors.Is(err, inventory.ErrNotFound):
		return inventory.Credential{}, false, nil, err
	}
	saved, err := s.store.PutCredential(ctx, c)
	return saved, replaced, kept, err
}

// credentialDetails is the audit log's account of a credential: its
// parameters and which secrets were set or kept, never their values.
func credentialDetails(c inventory.Credential, replaced bool, kept []string) string {
	verb := "created"
	if replaced {
		verb = "replaced"
	}
	d := fmt.Sprintf("%s: v%s", verb, c.Version)
	if c.User != "" {
		d += fmt.Sprintf(", user %q, auth %q, priv %q", c.User, c.AuthProtocol, c.PrivProtocol)
	}
	if c.Context != "" {
		d += fmt.Sprintf(", context %q", c.Context)
	}
	if len(kept) > 0 {
		d += ", kept the stored " + strings.Join(kept, " and ")
	}
	return d
}

func (s *Server) apiCredentials(c *gin.Context) {
	views, err := s.credentialViews(c.Request.Context())
	if err != nil {
		s.storeError(c, err)
		return
	}
	pageOf(c, views)
}

func (s *Server) apiCredential(c *gin.Context) {
	views, err := s.credentialViews(c.Request.Context())
	if err != nil {
		s.storeError(c, err)
		return
	}
	for _, v := range views {
		if v.Name == c.Param("name") {
			c.JSON(http.StatusOK, v)
			return
		}
	}
	apiError(c, http.StatusNotFound, "not found")
}

func (s *Server) apiCreateCredential(c *gin.Context) { s.apiWriteCredential(c, true) }
func (s *Server) apiPutCredential(c *gin.Context)    { s.apiWriteCredential(c, false) }

func (s *Server) apiWriteCredential(c *gin.Context, create bool) {
	var in credentialInput
	if !decodeJSON(c, &in) {
		return
	}
	if !create {
		if in.Name != "" && strings.TrimSpace(in.Name) != c.Param("name") {
			apiError(c, http.StatusBadRequest, "the name in the body differs from the one in the path; a credential cannot be renamed")
			return
		}
		in.Name = c.Param("name")
	}
	cred, err := in.credential()
	if err != nil {
		apiError(c, http.StatusBadRequest, err.Error())
		return
	}
	saved, replaced, kept, err := s.putCredential(c.Request.Context(), cred, create)
	if err != nil {
		s.storeError(c, err)
		return
	}
	s.audit(c, "credential.put", "credential/"+saved.Name, credentialDetails(saved, replaced, kept))
	status := http.StatusCreated
	if replaced {
		status = http.StatusOK
	}
	c.Header("Location", "/api/v1/credentials/"+url.PathEscape(saved.Name))
	c.JSON(status, saved)
}

func (s *Server) apiDeleteCredential(c *gin.Context) {
	name := c.Param("name")
	if err := s.store.DeleteCredential(c.Request.Context(), name); err != nil {
		s.storeError(c, err)
		return
	}
	s.audit(c, "credential.delete", "credential/"+name, "")
	c.Status(http.StatusNoContent)
}

// The page.

type credentialsData struct {
	Credentials []credentialView
	Form        credentialInput // never holds a secret when rendered
	Error       string
	Notice      string
	Auths       []snmp.AuthProto
	Privs       []snmp.PrivProto
}

var (
	authProtos = []snmp.AuthProto{snmp.MD5, snmp.SHA, snmp.SHA224, snmp.SHA256, snmp.SHA384, snmp.SHA512}
	privProtos = []snmp.PrivProto{snmp.DES, snmp.AES, snmp.AES192, snmp.AES256, snmp.AES192C, snmp.AES256C}
)

func (s *Server) credentialsPage(c *gin.Context) {
	notice := map[string]string{"saved": "Credential saved.", "deleted": "Credential deleted."}[c.Query("done")]
	form := credentialInput{Version: "2c"}
	// ?edit=NAME fills the form with a credential's parameters (never its
	// secrets), to replace it.
	if name := c.Query("edit"); name != "" {
		creds, err := s.store.Credentials(c.Request.Context())
		if err != nil {
			s.pageError(c, err)
			return
		}
		for _, cr := range creds {
			if cr.Name == name {
				form = credentialInput{Name: cr.Name, Version: cr.Version.String(), User: cr.User,
					AuthProtocol: string(cr.AuthProtocol), PrivProtocol: string(cr.PrivProtocol), Context: cr.Context}
			}
		}
	}
	s.renderCredentials(c, http.StatusOK, form, "", notice)
}

func (s *Server) renderCredentials(c *gin.Context, status int, form credentialInput, errMsg, notice string) {
	views, err := s.credentialViews(c.Request.Context())
	if err != nil {
		s.pageError(c, err)
		return
	}
	form.Community, form.AuthPassword, form.PrivPassword = "", "", ""
	s.render(c, status, "credentials.html", credentialsData{Credentials: views, Form: form, Error: errMsg,
		Notice: notice, Auths: authProtos, Privs: privProtos})
}

func (s *Server) putCredentialForm(c *gin.Context) {
	in := credentialInput{Name: c.PostForm("name"), Version: c.PostForm("version"), Community: c.PostForm("community"),
		User: c.PostForm("user"), AuthProtocol: c.PostForm("auth_protocol"), AuthPassword: c.PostForm("auth_password"),
		PrivProtocol: c.PostForm("priv_protocol"), PrivPassword: c.PostForm("priv_password"), Context: c.PostForm("context")}
	cred, err := in.credential()
	if err != nil {
		s.renderCredentials(c, http.StatusBadRequest, in, err.Error(), "")
		return
	}
	// The form only ever v1/v2c or v3 fields; drop what the other version
	// does not take, so a hidden leftover does not fail validation.
	if cred.Version == snmp.V3 {
		cred.Community = ""
	} else {
		cred.User, cred.Auth, cred.AuthPass, cred.Priv, cred.PrivPass, cred.Context = "", "", "", "", "", ""
	}
	saved, replaced, kept, err := s.putCredential(c.Request.Context(), cred, false)
	if err != nil {
		if msg, ok := s.formError(c, err); ok {
			s.renderCredentials(c, http.StatusBadRequest, in, msg, "")
		}
		return
	}
	s.audit(c, "credential.put", "credential/"+saved.Name, credentialDetails(saved, replaced, kept))
	redirectDone(c, "/admin/credentials", "saved")
}

func (s *Server) deleteCredentialForm(c *gin.Context) {
	name := c.PostForm("name")
	if err := s.store.DeleteCredential(c.Request.Context(), name); err != nil {
		if msg, ok := s.formError(c, err); ok {
			s.renderCredentials(c, http.StatusConflict, credentialInput{Version: "2c"}, msg, "")
		}
		return
	}
	s.audit(c, "credential.delete", "credential/"+name, "")
	redirectDone(c, "/admin/credentials", "deleted")
}
