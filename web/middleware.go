package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// contentSecurityPolicy allows nothing but the server's own files: no
// inline script or style, no framing, forms posting only here. The pages
// need no script at all; charts are SVG drawn by the server.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// secure sets the security headers on every response, the CSRF refusals
// included, and caps request bodies.
func (s *Server) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		// Browsers ignore HSTS from a certificate they had to be told to
		// accept, so this only takes hold once the admin trusts ours.
		h.Set("Strict-Transport-Security", "max-age=31536000")
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

// logRequests logs one line per request. The query string is left out: it
// may hold search terms people would not want in logs.
func (s *Server) logRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	p := principalOf(c)
	level := slogLevel(c.Writer.Status())
	s.log.Log(c.Request.Context(), level, "http request",
		"method", c.Request.Method, "path", c.Request.URL.Path, "status", c.Writer.Status(),
		"duration", time.Since(start), "client", c.ClientIP(), "user", p.actor())
}

// recover turns a handler panic into a 500 and a logged stack, keeping the
// server up. http.ErrAbortHandler is net/http's own way to abort and goes
// through.
func (s *Server) recover(c *gin.Context) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
			panic(v)
		}
		s.log.Error("handler panic", "method", c.Request.Method, "path", c.Request.URL.Path,
			"panic", v, "stack", string(debug.Stack()))
		if c.Writer.Written() {
			c.Abort()
			return
		}
		if isAPI(c) {
			apiError(c, http.StatusInternalServerError, "internal error")
			return
		}
		c.AbortWithStatus(http.StatusInternalServerError)
	}()
	c.Next()
}

func isAPI(c *gin.Context) bool { return strings.HasPrefix(c.Request.URL.Path, "/api/") }

func (s *Server) notFound(c *gin.Context) {
	if isAPI(c) {
		apiError(c, http.StatusNotFound, "not found")
		return
	}
	s.renderStatus(c, http.StatusNotFound, "Not found", "There is no page here.")
}

// apiError ends a request with a JSON error.
func apiError(c *gin.Context, status int, msg string) {
	c.AbortWithStatusJSON(status, gin.H{"error": msg})
}

// writeJSONError is apiError outside gin.
func writeJSONError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
