package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lanscout/lanscout/inventory"
)

// The audit log: filtered by actor (exact), action and target (prefixes)
// and time, newest first, a page at a time.

// auditQuery reads the filters shared by the page and the API. Times are
// RFC 3339, or a date or date and time (as an HTML date-time field sends
// it) in the server's time zone; until is exclusive, and a bare date as
// until means the end of that day.
func auditQuery(c *gin.Context) (inventory.AuditQuery, int, error) {
	q := inventory.AuditQuery{Actor: strings.TrimSpace(c.Query("actor")), Action: strings.TrimSpace(c.Query("action")),
		Target: strings.TrimSpace(c.Query("target"))}
	page, limit, err := pageParams(c, 50)
	if err != nil {
		return q, 0, err
	}
	q.Limit, q.Offset = limit, (page-1)*limit
	for _, f := range []struct {
		name string
		dst  *time.Time
		end  bool
	}{{"since", &q.Since, false}, {"until", &q.Until, true}} {
		v := strings.TrimSpace(c.Query(f.name))
		if v == "" {
			continue
		}
		t, err := parseWhen(v, f.end)
		if err != nil {
			return q, 0, fmt.Errorf("%s: %v", f.name, err)
		}
		*f.dst = t
	}
	return q, page, nil
}

func parseWhen(v string, endOfDay bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			return t, nil
		}
	}
	if t, err := time.ParseInLocation("2006-01-02", v, time.Local); err == nil {
		if endOfDay {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time such as 2026-11-22, 2026-11-22T08:30 or RFC 3339", v)
}

func (s *Server) apiAudit(c *gin.Context) {
	q, page, err := auditQuery(c)
	if err != nil {
		apiError(c, http.StatusBadRequest, err.Error())
		return
	}
	entries, total, err := s.store.AuditLog(c.Request.Context(), q)
	if err != nil {
		s.storeError(c, err)
		return
	}
	c.JSON(http.StatusOK, listView[inventory.AuditEntry]{Items: entries, Total: total, Page: page, Limit: q.Limit})
}

type auditData struct {
	Entries                           []auditRow
	Actor, Action, Target, Since, Til string
	Actions                           []string
	Total, Page, Pages                int
	Prev, Next                        string
	Error                             string
}

// auditActions are the action prefixes the filter offers; the field takes
// any prefix.
var auditActions = []string{"credential.", "device.", "settings.", "subnet.", "token.", "type.", "user."}

func (s *Server) auditPage(c *gin.Context) {
	d := auditData{Actor: c.Query("actor"), Action: c.Query("action"), Target: c.Query("target"),
		Since: c.Query("since"), Til: c.Query("until"), Actions: auditActions, Page: 1, Pages: 1}
	q, page, err := auditQuery(c)
	if err != nil {
		d.Error = err.Error()
		s.render(c, http.StatusBadRequest, "audit.html", d)
		return
	}
	entries, total, err := s.store.AuditLog(c.Request.Context(), q)
	if err != nil {
		s.pageError(c, err)
		return
	}
	for _, e := range entries {
		d.Entries = append(d.Entries, auditRow{AuditEntry: e, Href: auditTargetHref(e.Target)})
	}
	d.Total, d.Page = total, page
	d.Pages = max(1, (total+q.Limit-1)/q.Limit)
	d.Prev, d.Next = pageLinks(c, "/admin/audit", page, d.Pages)
	s.render(c, http.StatusOK, "audit.html", d)
}

// auditRow is an entry with a link to its target's page, if any.
type auditRow struct {
	inventory.AuditEntry
	Href string
}

// auditTargetHref links an audit target to its page, where it has one.
func auditTargetHref(target string) string {
	kind, id, ok := strings.Cut(target, "/")
	if !ok {
		return ""
	}
	switch kind {
	case "device":
		return "/devices/" + url.PathEscape(id)
	case "type":
		return "/admin/types/" + url.PathEscape(id)
	}
	return ""
}
