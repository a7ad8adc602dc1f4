package web

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lanscout/lanscout/inventory"
)

// sessionCookie is the browser's session. The __Host- prefix makes
// browsers refuse it unless it is Secure, host-only and for path /, so a
// sibling host cannot plant one.
const sessionCookie = "__Host-lanscout_session"

// principal is who is making a request: a logged-in user or an API token.
type principal struct {
	UserID   int64
	Username string
	Token    string // API token name, when authenticated by one
	Role     inventory.Role
}

const principalKey = "lanscout.principal"

func principalOf(c *gin.Context) principal {
	p, _ := c.Get(principalKey)
	pr, _ := p.(principal)
	return pr
}

// actor is how the audit log names the principal.
func (p principal) actor() string {
	switch {
	case p.Token != "":
		return "token:" + p.Token
	case p.Username != "":
		return p.Username
	}
	return ""
}

// requireSession admits requests with a live session cookie and sends
// everyone else to the login page.
func (s *Server) requireSession(c *gin.Context) {
	if p, ok := s.sessionPrincipal(c); ok {
		c.Set(principalKey, p)
		c.Next()
		return
	}
	c.Redirect(http.StatusSeeOther, "/login")
	c.Abort()
}

func (s *Server) sessionPrincipal(c *gin.Context) (principal, bool) {
	tok, err := c.Cookie(sessionCookie)
	if err != nil || tok == "" {
		return principal{}, false
	}
	_, u, err := s.store.Session(c.Request.Context(), tok)
	if err != nil {
		if !errors.Is(err, inventory.ErrNotFound) && !errors.Is(err, inventory.ErrExpired) {
			s.log.Error("look up session", "err", err)
		}
		return principal{}, false
	}
	return principal{UserID: u.ID, Username: u.Username, Role: u.Role}, true
}

// requireAPI admits a bearer API token or a browser session. Cookie-borne
// writes are covered by the cross-origin protection around the router;
// bearer tokens cannot be sent by a foreign page at all.
func (s *Server) requireAPI(c *gin.Context) {
	// Answers are per principal; no shared cache may keep them.
	c.Header("Cache-Control", "no-store")
	if h := c.GetHeader("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			c.Header("WWW-Authenticate", `Bearer realm="lanscout"`)
			apiError(c, http.StatusUnauthorized, "Authorization must be \"Bearer TOKEN\"")
			return
		}
		t, err := s.store.AuthenticateAPIToken(c.Request.Context(), strings.TrimSpace(tok))
		if err != nil {
			if !errors.Is(err, inventory.ErrNotFound) && !errors.Is(err, inventory.ErrExpired) {
				s.log.Error("authenticate API token", "err", err)
				apiError(c, http.StatusInternalServerError, "internal error")
				return
			}
			c.Header("WWW-Authenticate", `Bearer realm="lanscout", error="invalid_token"`)
			apiError(c, http.StatusUnauthorized, "invalid, expired or revoked API token")
			return
		}
		c.Set(principalKey, principal{Token: t.Name, Role: t.Role})
		c.Next()
		return
	}
	if p, ok := s.sessionPrincipal(c); ok {
		c.Set(principalKey, p)
		c.Next()
		return
	}
	c.Header("WWW-Authenticate", `Bearer realm="lanscout"`)
	apiError(c, http.StatusUnauthorized, "authentication required: an API token (Authorization: Bearer) or a session")
}

// requireRole refuses principals below want with 403, before the handler
// reads anything of the request.
func (s *Server) requireRole(want inventory.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		p := principalOf(c)
		if p.Role.Allows(want) {
			c.Next()
			return
		}
		msg := fmt.Sprintf("this needs the %s role; you are %s", want, p.Role)
		if isAPI(c) {
			apiError(c, http.StatusForbidden, msg)
			return
		}
		s.renderStatus(c, http.StatusForbidden, "Not allowed", msg)
		c.Abort()
	}
}

// audit records a state-changing action. A failure to audit is logged, not
// returned: the action has happened and the user must hear so.
func (s *Server) audit(c *gin.Context, action, target, details string) {
	e := inventory.AuditEntry{Actor: principalOf(c).actor(), Action: action, Target: target,
		Details: details, RemoteAddr: c.ClientIP()}
	if e.Actor == "" {
		e.Actor = "anonymous"
	}
	if err := s.store.Audit(c.Request.Context(), e); err != nil {
		s.log.Error("audit", "action", action, "target", target, "err", err)
	}
}

func (s *Server) loginPage(c *gin.Context) {
	if _, ok := s.sessionPrincipal(c); ok {
		c.Redirect(http.StatusSeeOther, "/")
		return
	}
	s.render(c, http.StatusOK, "login.html", loginData{})
}

type loginData struct {
	Username string
	Error    string
}

func (s *Server) login(c *gin.Context) {
	ctx := c.Request.Context()
	username := strings.ToLower(strings.TrimSpace(c.PostForm("username")))
	password := c.PostForm("password")
	ip := c.ClientIP()
	if wait := s.limiter.blocked(ip, username); wait > 0 {
		mins := int(math.Ceil(wait.Minutes()))
		c.Header("Retry-After", fmt.Sprint(int(math.Ceil(wait.Seconds()))))
		s.log.Warn("login rate limited", "client", ip, "username", username)
		s.render(c, http.StatusTooManyRequests, "login.html", loginData{Username: username,
			Error: fmt.Sprintf("Too many failed logins. Try again in %d minute%s.", mins, plural(mins))})
		return
	}
	u, err := s.store.Authenticate(ctx, username, password)
	if err != nil {
		if !errors.Is(err, inventory.ErrBadCredentials) {
			s.log.Error("authenticate", "err", err)
			s.renderStatus(c, http.StatusInternalServerError, "Error", "Login failed on the server; see its log.")
			return
		}
		s.limiter.fail(ip, username)
		s.log.Info("login failed", "client", ip, "username", username)
		s.render(c, http.StatusUnauthorized, "login.html", loginData{Username: username, Error: "Wrong username or password."})
		return
	}
	s.limiter.succeed(username)
	tok, _, err := s.store.CreateSession(ctx, u.ID, s.opts.SessionTTL, inventory.SessionMeta{
		RemoteAddr: ip, UserAgent: c.Request.UserAgent()})
	if err != nil {
		s.log.Error("create session", "err", err)
		s.renderStatus(c, http.StatusInternalServerError, "Error", "Login failed on the server; see its log.")
		return
	}
	s.setSessionCookie(c, tok, int(s.opts.SessionTTL.Seconds()))
	c.Set(principalKey, principal{UserID: u.ID, Username: u.Username, Role: u.Role})
	s.audit(c, "user.login", "user/"+fmt.Sprint(u.ID), "")
	c.Redirect(http.StatusSeeOther, "/")
}

func (s *Server) logout(c *gin.Context) {
	if tok, err := c.Cookie(sessionCookie); err == nil && tok != "" {
		if p, ok := s.sessionPrincipal(c); ok {
			c.Set(principalKey, p)
			s.audit(c, "user.logout", "user/"+fmt.Sprint(p.UserID), "")
		}
		if err := s.store.DeleteSession(c.Request.Context(), tok); err != nil {
			s.log.Error("delete session", "err", err)
		}
	}
	s.setSessionCookie(c, "", -1)
	c.Redirect(http.StatusSeeOther, "/login")
}

func (s *Server) setSessionCookie(c *gin.Context, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: value, Path: "/", MaxAge: maxAge,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// loginLimiter counts failed logins in a sliding window, per client
// address (one machine guessing many accounts) and per username (many
// machines guessing one account). Memory is bounded by pruning on use and
// by a sweep when many keys pile up.
type loginLimiter struct {
	mu            sync.Mutex
	window        time.Duration
	perIP, perUsr int
	now           func() time.Time
	fails         map[string][]time.Time
}

func newLoginLimiter(window time.Duration, perIP, perUser int, now func() time.Time) *loginLimiter {
	return &loginLimiter{window: window, perIP: perIP, perUsr: perUser, now: now, fails: map[string][]time.Time{}}
}

// blocked returns how long until another attempt is allowed, 0 if now.
func (l *loginLimiter) blocked(ip, user string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	wait := l.waitLocked("ip:"+ip, l.perIP, now)
	if user != "" {
		wait = max(wait, l.waitLocked("user:"+user, l.perUsr, now))
	}
	return wait
}

func (l *loginLimiter) waitLocked(key string, limit int, now time.Time) time.Duration {
	ts := l.pruneLocked(key, now)
	if len(ts) < limit {
		return 0
	}
	// The oldest failure that keeps the count at the limit must age out.
	return max(ts[len(ts)-limit].Add(l.window).Sub(now), time.Second)
}

func (l *loginLimiter) pruneLocked(key string, now time.Time) []time.Time {
	ts := l.fails[key]
	i := 0
	for i < len(ts) && !ts[i].After(now.Add(-l.window)) {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.fails, key)
		return nil
	}
	l.fails[key] = ts
	return ts
}

func (l *loginLimiter) fail(ip, user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.fails) > 10000 {
		for k := range l.fails {
			l.pruneLocked(k, now)
		}
	}
	l.fails["ip:"+ip] = append(l.fails["ip:"+ip], now)
	if user != "" {
		l.fails["user:"+user] = append(l.fails["user:"+user], now)
	}
}

// succeed forgets a username's failures; the address's stay, so one
// account the guesser owns does not reset their budget for others.
func (l *loginLimiter) succeed(user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, "user:"+user)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func slogLevel(status int) slog.Level {
	if status >= 500 {
		return slog.LevelError
	}
	return slog.LevelInfo
}
