package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lanscout/lanscout/inventory"
)

// Users and API tokens. Passwords are only ever set, never shown; a token
// is shown once, in the answer that creates it. Nobody may delete, disable
// or demote their own account from here (the store separately keeps the
// last enabled admin): locking oneself out is a mistake, not an action.

var errSelf = fmt.Errorf("%w: you cannot delete, disable or demote your own account; ask another admin", inventory.ErrInvalid)

// userInput is what POST /users takes.
type userInput struct {
	Username string         `json:"username"`
	Password string         `json:"password"`
	Role     inventory.Role `json:"role"`
}

// userUpdate is what PATCH /users/{id} takes; fields left out keep their
// value.
type userUpdate struct {
	Role     *inventory.Role `json:"role"`
	Disabled *bool           `json:"disabled"`
}

type passwordInput struct {
	Password string `json:"password"`
}

func (s *Server) apiUsers(c *gin.Context) {
	users, err := s.store.Users(c.Request.Context())
	if err != nil {
		s.storeError(c, err)
		return
	}
	pageOf(c, users)
}

func (s *Server) apiUser(c *gin.Context) { serveByID(s, c, s.store.User) }

func (s *Server) apiCreateUser(c *gin.Context) {
	var in userInput
	if !decodeJSON(c, &in) {
		return
	}
	u, err := s.store.CreateUser(c.Request.Context(), in.Username, in.Password, in.Role)
	if err != nil {
		s.storeError(c, err)
		return
	}
	s.audit(c, "user.create", fmt.Sprintf("user/%d", u.ID), fmt.Sprintf("%s, role %s", u.Username, u.Role))
	c.Header("Location", fmt.Sprintf("/api/v1/users/%d", u.ID))
	c.JSON(http.StatusCreated, u)
}

// updateUser applies a role and disabled change, refusing changes to the
// caller's own account that would lock them out.
func (s *Server) updateUser(c *gin.Context, id int64, up userUpdate) (inventory.User, error) {
	ctx := c.Request.Context()
	old, err := s.store.User(ctx, id)
	if err != nil {
		return inventory.User{}, err
	}
	role, disabled := old.Role, old.Disabled
	if up.Role != nil {
		role = *up.Role
	}
	if up.Disabled != nil {
		disabled = *up.Disabled
	}
	if id == principalOf(c).UserID && (disabled || role != old.Role) {
		return inventory.User{}, errSelf
	}
	u, err := s.store.UpdateUser(ctx, id, role, disabled)
	if err != nil {
		return inventory.User{}, err
	}
	var changes []string
	if u.Role != old.Role {
		changes = append(changes, fmt.Sprintf("role %s → %s", old.Role, u.Role))
	}
	if u.Disabled != old.Disabled {
		changes = append(changes, map[bool]string{true: "disabled", false: "enabled"}[u.Disabled])
	}
	if len(changes) == 0 {
		changes = append(changes, "no change")
	}
	s.audit(c, "user.update", fmt.Sprintf("user/%d", id), u.Username+": "+strings.Join(changes, ", "))
	return u, nil
}

func (s *Server) apiUpdateUser(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	var up userUpdate
	if !decodeJSON(c, &up) {
		return
	}
	u, err := s.updateUser(c, id, up)
	if err != nil {
		s.storeError(c, err)
		return
	}
	c.JSON(http.StatusOK, u)
}

func (s *Server) apiSetPassword(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	var in passwordInput
	if !decodeJSON(c, &in) {
		return
	}
	u, err := s.store.User(c.Request.Context(), id)
	if err == nil {
		err = s.store.SetPassword(c.Request.Context(), id, in.Password)
	}
	if err != nil {
		s.storeError(c, err)
		return
	}
	s.audit(c, "user.password", fmt.Sprintf("user/%d", id), u.Username+": password reset, sessions ended")
	c.Status(http.StatusNoContent)
}

// deleteUser deletes id unless it is the caller's own account.
func (s *Server) deleteUser(c *gin.Context, id int64) error {
	if id == principalOf(c).UserID {
		return errSelf
	}
	ctx := c.Request.Context()
	u, err := s.store.User(ctx, id)
	if err != nil {
		return err
	}
	if err := s.store.DeleteUser(ctx, id); err != nil {
		return err
	}
	s.audit(c, "user.delete", fmt.Sprintf("user/%d", id), u.Username)
	return nil
}

func (s *Server) apiDeleteUser(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	if err := s.deleteUser(c, id); err != nil {
		s.storeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// Tokens.

// tokenView is an API token as lists show it: never the token.
type tokenView struct {
	inventory.APIToken
	CreatedByName string `json:"created_by_name,omitempty"`
	Expired       bool   `json:"expired"`
}

// createdToken is the one answer that carries a token.
type createdToken struct {
	tokenView
	Token string `json:"token"`
}

// tokenInput is what POST /tokens takes. ExpiresIn is "90d", "12h" or
// "never"; left out, the settings' proposed expiry applies.
type tokenInput struct {
	Name      string         `json:"name"`
	Role      inventory.Role `json:"role"`
	ExpiresIn *string        `json:"expires_in"`
}

func (s *Server) tokenViews(c *gin.Context) ([]tokenView, error) {
	ctx := c.Request.Context()
	toks, err := s.store.APITokens(ctx)
	if err != nil {
		return nil, err
	}
	names, err := s.userNames(ctx)
	if err != nil {
		return nil, err
	}
	now := s.opts.Now()
	out := make([]tokenView, 0, len(toks))
	// Newest first: the one just made is on top.
	for i := len(toks) - 1; i >= 0; i-- {
		t := toks[i]
		out = append(out, tokenView{APIToken: t, CreatedByName: names[t.CreatedBy],
			Expired: !t.Expires.IsZero() && !now.Before(t.Expires)})
	}
	return out, nil
}

func (s *Server) apiTokens(c *gin.Context) {
	views, err := s.tokenViews(c)
	if err != nil {
		s.storeError(c, err)
		return
	}
	pageOf(c, views)
}

// createToken makes a token for the caller; expiresIn nil takes the
// settings' default.
func (s *Server) createToken(c *gin.Context, name string, role inventory.Role, expiresIn *string) (createdToken, error) {
	ctx := c.Request.Context()
	var life time.Duration
	if expiresIn == nil {
		st, err := s.store.Settings(ctx)
		if err != nil {
			return createdToken{}, err
		}
		life = st.TokenExpiry
	} else {
		var err error
		if life, err = parseExpiry(*expiresIn); err != nil {
			return createdToken{}, fmt.Errorf("%w: expires_in %v", inventory.ErrInvalid, err)
		}
	}
	var expires time.Time
	if life > 0 {
		expires = s.opts.Now().Add(life)
	}
	p := principalOf(c)
	tok, t, err := s.store.CreateAPIToken(ctx, name, role, p.UserID, expires)
	if err != nil {
		return createdToken{}, err
	}
	s.audit(c, "token.create", fmt.Sprintf("token/%d", t.ID), fmt.Sprintf("%s, role %s, expires %s", t.Name, t.Role, expiryText(t.Expires)))
	return createdToken{tokenView: tokenView{APIToken: t, CreatedByName: p.Username}, Token: tok}, nil
}

func expiryText(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

func (s *Server) apiCreateToken(c *gin.Context) {
	var in tokenInput
	if !decodeJSON(c, &in) {
		return
	}
	ct, err := s.createToken(c, in.Name, in.Role, in.ExpiresIn)
	if err != nil {
		s.storeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, ct)
}

func (s *Server) revokeToken(c *gin.Context, id int64) error {
	if err := s.store.RevokeAPIToken(c.Request.Context(), id); err != nil {
		return err
	}
	s.audit(c, "token.revoke", fmt.Sprintf("token/%d", id), "")
	return nil
}

func (s *Server) apiRevokeToken(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	if err := s.revokeToken(c, id); err != nil {
		s.storeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// The pages.

type usersData struct {
	Users  []inventory.User
	Me     int64
	Roles  []inventory.Role
	Form   userInput // Password never rendered
	Error  string
	Notice string
}

var roles = []inventory.Role{inventory.RoleViewer, inventory.RoleOperator, inventory.RoleAdmin}

func (s *Server) usersPage(c *gin.Context) {
	notice := map[string]string{"created": "User created.", "updated": "User updated.", "deleted": "User deleted.",
		"password": "Password reset; the user's sessions were ended."}[c.Query("done")]
	s.renderUsers(c, http.StatusOK, userInput{Role: inventory.RoleViewer}, "", notice)
}

func (s *Server) renderUsers(c *gin.Context, status int, form userInput, errMsg, notice string) {
	users, err := s.store.Users(c.Request.Context())
	if err != nil {
		s.pageError(c, err)
		return
	}
	form.Password = ""
	s.render(c, status, "users.html", usersData{Users: users, Me: principalOf(c).UserID, Roles: roles, Form: form,
		Error: errMsg, Notice: notice})
}

// userFormDone answers a users form: back to the list, or the list with
// the error.
func (s *Server) userFormDone(c *gin.Context, err error, done string, form userInput) {
	if err == nil {
		redirectDone(c, "/admin/users", done)
		return
	}
	if msg, ok := s.formError(c, err); ok {
		s.renderUsers(c, http.StatusBadRequest, form, msg, "")
	}
}

func (s *Server) createUserForm(c *gin.Context) {
	in := userInput{Username: c.PostForm("username"), Password: c.PostForm("password"), Role: inventory.Role(c.PostForm("role"))}
	var err error
	if in.Password != c.PostForm("password2") {
		err = fmt.Errorf("%w: the two passwords differ", inventory.ErrInvalid)
	} else {
		var u inventory.User
		if u, err = s.store.CreateUser(c.Request.Context(), in.Username, in.Password, in.Role); err == nil {
			s.audit(c, "user.create", fmt.Sprintf("user/%d", u.ID), fmt.Sprintf("%s, role %s", u.Username, u.Role))
		}
	}
	s.userFormDone(c, err, "created", in)
}

func formID(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	return id, err == nil && id > 0
}

func (s *Server) updateUserForm(c *gin.Context) {
	id, ok := formID(c)
	if !ok {
		s.renderStatus(c, http.StatusNotFound, "Not found", "There is no such user.")
		return
	}
	role := inventory.Role(c.PostForm("role"))
	disabled := c.PostForm("disabled") == "on"
	_, err := s.updateUser(c, id, userUpdate{Role: &role, Disabled: &disabled})
	s.userFormDone(c, err, "updated", userInput{Role: inventory.RoleViewer})
}

func (s *Server) passwordForm(c *gin.Context) {
	id, ok := formID(c)
	if !ok {
		s.renderStatus(c, http.StatusNotFound, "Not found", "There is no such user.")
		return
	}
	pw := c.PostForm("password")
	ctx := c.Request.Context()
	var err error
	var u inventory.User
	switch {
	case pw != c.PostForm("password2"):
		err = fmt.Errorf("%w: the two passwords differ", inventory.ErrInvalid)
	default:
		if u, err = s.store.User(ctx, id); err == nil {
			err = s.store.SetPassword(ctx, id, pw)
		}
	}
	if err == nil {
		s.audit(c, "user.password", fmt.Sprintf("user/%d", id), u.Username+": password reset, sessions ended")
		if id == principalOf(c).UserID {
			// Setting one's own password ends one's own session too.
			c.Redirect(http.StatusSeeOther, "/login")
			return
		}
	}
	s.userFormDone(c, err, "password", userInput{Role: inventory.RoleViewer})
}

func (s *Server) deleteUserForm(c *gin.Context) {
	id, ok := formID(c)
	if !ok {
		s.renderStatus(c, http.StatusNotFound, "Not found", "There is no such user.")
		return
	}
	s.userFormDone(c, s.deleteUser(c, id), "deleted", userInput{Role: inventory.RoleViewer})
}

type tokensData struct {
	Tokens  []tokenView
	Roles   []inventory.Role
	Form    tokenForm
	Created *createdToken // the token just made, shown once
	Error   string
	Notice  string
}

type tokenForm struct {
	Name      string
	Role      inventory.Role
	ExpiresIn string
}

func (s *Server) tokensPage(c *gin.Context) {
	st, err := s.store.Settings(c.Request.Context())
	if err != nil {
		s.pageError(c, err)
		return
	}
	notice := map[string]string{"revoked": "Token revoked."}[c.Query("done")]
	s.renderTokens(c, http.StatusOK, tokensData{Form: tokenForm{Role: inventory.RoleViewer, ExpiresIn: formatExpiry(st.TokenExpiry)},
		Notice: notice})
}

func (s *Server) renderTokens(c *gin.Context, status int, d tokensData) {
	views, err := s.tokenViews(c)
	if err != nil {
		s.pageError(c, err)
		return
	}
	d.Tokens, d.Roles = views, roles
	s.render(c, status, "tokens.html", d)
}

// createTokenForm answers with the page itself rather than a redirect:
// the token must be shown once, and must not sit in a URL or a session.
func (s *Server) createTokenForm(c *gin.Context) {
	f := tokenForm{Name: c.PostForm("name"), Role: inventory.Role(c.PostForm("role")), ExpiresIn: c.PostForm("expires_in")}
	ct, err := s.createToken(c, f.Name, f.Role, &f.ExpiresIn)
	if err != nil {
		if errors.Is(err, inventory.ErrInvalid) {
			s.renderTokens(c, http.StatusBadRequest, tokensData{Form: f, Error: plainError(err)})
			return
		}
		s.pageError(c, err)
		return
	}
	s.renderTokens(c, http.StatusOK, tokensData{Form: tokenForm{Role: f.Role, ExpiresIn: f.ExpiresIn}, Created: &ct})
}

func (s *Server) revokeTokenForm(c *gin.Context) {
	id, ok := formID(c)
	if !ok {
		s.renderStatus(c, http.StatusNotFound, "Not found", "There is no such token.")
		return
	}
	if err := s.revokeToken(c, id); err != nil {
		if msg, ok := s.formError(c, err); ok {
			s.renderTokens(c, http.StatusNotFound, tokensData{Form: tokenForm{Role: inventory.RoleViewer}, Error: msg})
		}
		return
	}
	redirectDone(c, "/admin/tokens", "revoked")
}
