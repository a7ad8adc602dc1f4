package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/lanscout/lanscout/inventory"
)

type agentsData struct {
	Agents  []agentView
	Search  string
	IsAdmin bool
	Online  int
}

func (s *Server) agentsPage(c *gin.Context) {
	agents, err := s.listAgents(c)
	if err != nil {
		s.pageError(c, err)
		return
	}
	d := agentsData{Agents: agents, Search: c.Query("q"), IsAdmin: principalOf(c).Role.Allows(inventory.RoleAdmin)}
	for _, a := range agents {
		if a.State == "online" {
			d.Online++
		}
	}
	s.render(c, http.StatusOK, "agents.html", d)
}

type agentData struct {
	Agent   agentDetailView
	IsAdmin bool
	Notice  string
}

func (s *Server) agentPage(c *gin.Context) {
	id, ok := s.pageID(c)
	if !ok {
		return
	}
	d, err := s.agentDetail(c.Request.Context(), id)
	if err != nil {
		s.pageStoreError(c, "agent", err)
		return
	}
	notice := ""
	switch c.Query("done") {
	case "revoked":
		notice = "Agent revoked: it is refused from its next call on, and its open tasks were closed."
	case "reinstated":
		notice = "Agent reinstated."
	}
	s.render(c, http.StatusOK, "agent.html", agentData{Agent: d, IsAdmin: principalOf(c).Role.Allows(inventory.RoleAdmin), Notice: notice})
}

func (s *Server) revokeAgentForm(c *gin.Context) {
	id, ok := s.pageID(c)
	if !ok {
		return
	}
	revoked := c.PostForm("revoked") != "false"
	a, err := s.revokeAgent(c.Request.Context(), id, revoked)
	if err != nil {
		s.pageStoreError(c, "agent", err)
		return
	}
	action, done := "agent.revoke", "revoked"
	if !revoked {
		action, done = "agent.reinstate", "reinstated"
	}
	s.audit(c, action, fmt.Sprintf("agent/%d", id), fmt.Sprintf("%s (%s)", a.Hostname, a.UID))
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/agents/%d?done=%s", id, done))
}

type keysData struct {
	Keys    []inventory.EnrollmentKey
	Created *createdKeyView // shown once, right after creation
	Form    enrollmentKeyInput
	Error   string
	Notice  string
	Server  string // the address agents reach, as this request came in
}

func (s *Server) enrollmentKeysPage(c *gin.Context) {
	notice := ""
	if c.Query("done") == "revoked" {
		notice = "Key revoked: nobody can enroll with it any more."
	}
	s.renderKeys(c, http.StatusOK, keysData{Notice: notice})
}

func (s *Server) renderKeys(c *gin.Context, status int, d keysData) {
	keys, err := s.store.EnrollmentKeys(c.Request.Context())
	if err != nil {
		s.pageError(c, err)
		return
	}
	d.Keys = keys
	d.Server = "https://" + c.Request.Host
	s.render(c, status, "enrollment_keys.html", d)
}

func (s *Server) createEnrollmentKeyForm(c *gin.Context) {
	in := enrollmentKeyInput{Name: c.PostForm("name"), ExpiresIn: strings.TrimSpace(c.PostForm("expires_in"))}
	for _, f := range strings.FieldsFunc(c.PostForm("subnets"), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' }) {
		in.Subnets = append(in.Subnets, f)
	}
	k, err := in.key(s.opts.Now(), principalOf(c).actor())
	var key string
	var created inventory.EnrollmentKey
	if err == nil {
		key, created, err = s.store.CreateEnrollmentKey(c.Request.Context(), k)
	}
	switch {
	case err == nil:
	case errors.Is(err, inventory.ErrInvalid):
		s.renderKeys(c, http.StatusBadRequest, keysData{Form: in, Error: plainError(err)})
		return
	default:
		s.pageError(c, err)
		return
	}
	s.audit(c, "enrollment_key.create", fmt.Sprintf("enrollment_key/%d", created.ID),
		fmt.Sprintf("%q %s, subnets [%s]", created.Name, created.Prefix, strings.Join(created.Subnets, ", ")))
	// The key is in this answer only; the page is no-store.
	s.renderKeys(c, http.StatusCreated, keysData{Created: &createdKeyView{EnrollmentKey: created, Key: key}})
}

func (s *Server) revokeEnrollmentKeyForm(c *gin.Context) {
	id, ok := s.pageID(c)
	if !ok {
		return
	}
	k, n, err := s.revokeKey(c.Request.Context(), id, c.PostForm("agents") == "on")
	if err != nil {
		s.pageStoreError(c, "key", err)
		return
	}
	s.audit(c, "enrollment_key.revoke", fmt.Sprintf("enrollment_key/%d", id),
		fmt.Sprintf("%q %s, %d agents revoked with it", k.Name, k.Prefix, n))
	c.Redirect(http.StatusSeeOther, "/enrollment-keys?done=revoked")
}

// pageID reads the :id of a page's path, answering 404 when it is not one.
func (s *Server) pageID(c *gin.Context) (int64, bool) {
	id, ok := deviceID(c)
	if !ok {
		s.renderStatus(c, http.StatusNotFound, "Not found", "There is no page here.")
	}
	return id, ok
}
