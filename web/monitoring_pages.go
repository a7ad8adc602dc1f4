package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/typing"
)

// webhookInput is what POST and PUT /api/v1/webhooks take. The secret is
// write-only: answers say has_secret, never the secret. On PUT, fields
// left out keep their values; "secret": "" removes the secret.
type webhookInput struct {
	Name    *string   `json:"name"`
	URL     *string   `json:"url"`
	Events  *[]string `json:"events"`
	Enabled *bool     `json:"enabled"`
	Secret  *string   `json:"secret"`
}

func (in webhookInput) apply(w *inventory.Webhook) {
	if in.Name != nil {
		w.Name = strings.TrimSpace(*in.Name)
	}
	if in.URL != nil {
		w.URL = strings.TrimSpace(*in.URL)
	}
	if in.Events != nil {
		w.Events = *in.Events
	}
	if in.Enabled != nil {
		w.Enabled = *in.Enabled
	}
}

func (s *Server) apiWebhooks(c *gin.Context) {
	hooks, err := s.store.Webhooks(c.Request.Context())
	if err != nil {
		s.storeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": hooks, "total": len(hooks)})
}

func (s *Server) apiWebhook(c *gin.Context) { serveByID(s, c, s.store.Webhook) }

func (s *Server) apiCreateWebhook(c *gin.Context) {
	var in webhookInput
	if !decodeJSON(c, &in) {
		return
	}
	w := inventory.Webhook{Enabled: true, Source: inventory.WebhookFromAPI}
	in.apply(&w)
	w, err := s.store.PutWebhook(c.Request.Context(), w, in.Secret)
	if err != nil {
		s.storeError(c, err)
		return
	}
	s.audit(c, "webhook.create", fmt.Sprintf("webhook/%d", w.ID), webhookDetails(w))
	c.Header("Location", fmt.Sprintf("/api/v1/webhooks/%d", w.ID))
	c.JSON(http.StatusCreated, w)
}

// configOwned refuses changes to a webhook the configuration file owns:
// the next start would undo them.
func configOwned(c *gin.Context, w inventory.Webhook) bool {
	if w.Source == inventory.WebhookFromConfig {
		apiError(c, http.StatusConflict, fmt.Sprintf("webhook %q is defined in the configuration file; change it there", w.Name))
		return true
	}
	return false
}

// apiEditableWebhook loads the webhook of the path's :id for a change:
// when it cannot, or the webhook is the configuration file's, it has
// already answered.
func (s *Server) apiEditableWebhook(c *gin.Context) (inventory.Webhook, bool) {
	id, ok := idParam(c)
	if !ok {
		return inventory.Webhook{}, false
	}
	w, err := s.store.Webhook(c.Request.Context(), id)
	if err != nil {
		s.storeError(c, err)
		return inventory.Webhook{}, false
	}
	if configOwned(c, w) {
		return inventory.Webhook{}, false
	}
	return w, true
}

func (s *Server) apiUpdateWebhook(c *gin.Context) {
	w, ok := s.apiEditableWebhook(c)
	if !ok {
		return
	}
	var in webhookInput
	if !decodeJSON(c, &in) {
		return
	}
	in.apply(&w)
	w, err := s.store.PutWebhook(c.Request.Context(), w, in.Secret)
	if err != nil {
		s.storeError(c, err)
		return
	}
	details := webhookDetails(w)
	if in.Secret != nil {
		details += ", secret changed"
	}
	s.audit(c, "webhook.update", fmt.Sprintf("webhook/%d", w.ID), details)
	c.JSON(http.StatusOK, w)
}

func (s *Server) apiDeleteWebhook(c *gin.Context) {
	w, ok := s.apiEditableWebhook(c)
	if !ok {
		return
	}
	if err := s.store.DeleteWebhook(c.Request.Context(), w.ID); err != nil {
		s.storeError(c, err)
		return
	}
	s.audit(c, "webhook.delete", fmt.Sprintf("webhook/%d", w.ID), w.Name)
	c.Status(http.StatusNoContent)
}

func (s *Server) apiWebhookDeliveries(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	if _, err := s.store.Webhook(c.Request.Context(), id); err != nil {
		s.storeError(c, err)
		return
	}
	q := inventory.DeliveryQuery{WebhookID: id, Status: inventory.DeliveryStatus(c.Query("status")), Limit: 100}
	switch q.Status {
	case "", inventory.DeliveryPending, inventory.DeliveryDelivered, inventory.DeliveryFailed:
	default:
		apiError(c, http.StatusBadRequest, fmt.Sprintf("status %q is not pending, delivered or failed", q.Status))
		return
	}
	ds, err := s.store.WebhookDeliveries(c.Request.Context(), q)
	if err != nil {
		s.storeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": ds, "total": len(ds)})
}

// apiTestWebhook queues a "ping" delivery to the webhook (202 with the
// delivery), so an admin can check the endpoint and its signature check.
func (s *Server) apiTestWebhook(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	w, err := s.store.Webhook(c.Request.Context(), id)
	if err != nil {
		s.storeError(c, err)
		return
	}
	if !w.Enabled {
		apiError(c, http.StatusConflict, fmt.Sprintf("webhook %q is disabled", w.Name))
		return
	}
	d, err := s.mon.notifier.ping(c.Request.Context(), w, principalOf(c).actor())
	if err != nil {
		s.storeError(c, err)
		return
	}
	s.audit(c, "webhook.test", fmt.Sprintf("webhook/%d", w.ID), w.Name)
	c.JSON(http.StatusAccepted, d)
}

func (s *Server) testWebhookForm(c *gin.Context) {
	w, ok := loadPageByID(s, c, "webhook", s.store.Webhook)
	if !ok {
		return
	}
	if !w.Enabled {
		s.renderMonitoring(c, http.StatusConflict, webhookForm{}, fmt.Sprintf("Webhook %q is disabled.", w.Name), "")
		return
	}
	if _, err := s.mon.notifier.ping(c.Request.Context(), w, principalOf(c).actor()); err != nil {
		s.pageError(c, err)
		return
	}
	s.audit(c, "webhook.test", fmt.Sprintf("webhook/%d", w.ID), w.Name)
	c.Redirect(http.StatusSeeOther, "/monitoring?done=tested")
}

func webhookDetails(w inventory.Webhook) string {
	ev := "all events"
	if len(w.Events) > 0 {
		ev = strings.Join(w.Events, " ")
	}
	return fmt.Sprintf("%s → %s (%s, enabled %t)", w.Name, w.URL, ev, w.Enabled)
}

// The /monitoring page.

type monitoringData struct {
	BaseURL       string
	Query         string // the filters, encoded, for the download links
	Filter        monitoringFilter
	Categories    []typing.Category
	Subnets       []inventory.Subnet
	Mappings      []categoryMapping
	MetricsAccess string
	CanAdmin      bool
	Webhooks      []inventory.Webhook
	Deliveries    []inventory.WebhookDelivery
	EventKinds    []string
	Form          webhookForm
	Error         string
	Notice        string
}

type monitoringFilter struct{ Category, Subnet, Site, State string }

type categoryMapping struct {
	Category                        typing.Category
	Module, IcingaTemplate, NagiosT string
}

type webhookForm struct {
	Name, URL string
	Events    map[string]bool
}

func (s *Server) monitoringPage(c *gin.Context) {
	notice := ""
	switch c.Query("done") {
	case "created":
		notice = "Webhook created."
	case "deleted":
		notice = "Webhook deleted."
	case "tested":
		notice = "Test delivery queued; it shows below within seconds."
	}
	s.renderMonitoring(c, http.StatusOK, webhookForm{}, "", notice)
}

func (s *Server) renderMonitoring(c *gin.Context, status int, form webhookForm, errMsg, notice string) {
	ctx := c.Request.Context()
	subnets, err := s.store.Subnets(ctx)
	if err != nil {
		s.pageError(c, err)
		return
	}
	o := s.opts.Monitoring
	scheme := "https"
	if c.Request.TLS == nil {
		scheme = "http"
	}
	d := monitoringData{BaseURL: scheme + "://" + c.Request.Host, Categories: typing.Categories, Subnets: subnets,
		MetricsAccess: o.MetricsAccess, CanAdmin: principalOf(c).Role.Allows(inventory.RoleAdmin),
		EventKinds: inventory.WebhookEventKinds, Form: form, Error: errMsg, Notice: notice,
		Filter: monitoringFilter{Category: c.Query("category"), Subnet: c.Query("subnet"), Site: c.Query("site"), State: c.Query("state")}}
	v := url.Values{}
	for k, val := range map[string]string{"category": d.Filter.Category, "subnet": d.Filter.Subnet, "site": d.Filter.Site, "state": d.Filter.State} {
		if val != "" {
			v.Set(k, val)
		}
	}
	if enc := v.Encode(); enc != "" {
		d.Query = "?" + enc
	}
	for _, cat := range typing.Categories {
		d.Mappings = append(d.Mappings, categoryMapping{Category: cat, Module: o.Export.Prometheus.Module(cat, ""),
			IcingaTemplate: o.Export.Icinga2.Template(cat), NagiosT: o.Export.Nagios.Template(cat)})
	}
	if d.CanAdmin {
		if d.Webhooks, err = s.store.Webhooks(ctx); err != nil {
			s.pageError(c, err)
			return
		}
		if d.Deliveries, err = s.store.WebhookDeliveries(ctx, inventory.DeliveryQuery{Limit: 50}); err != nil {
			s.pageError(c, err)
			return
		}
	}
	s.render(c, status, "monitoring.html", d)
}

func (s *Server) createWebhookForm(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.renderMonitoring(c, http.StatusBadRequest, webhookForm{}, "The form could not be read.", "")
		return
	}
	form := webhookForm{Name: strings.TrimSpace(c.PostForm("name")), URL: strings.TrimSpace(c.PostForm("url")), Events: map[string]bool{}}
	events := c.PostFormArray("events")
	for _, e := range events {
		form.Events[e] = true
	}
	secret := c.PostForm("secret")
	w, err := s.store.PutWebhook(c.Request.Context(), inventory.Webhook{Name: form.Name, URL: form.URL, Events: events,
		Enabled: true, Source: inventory.WebhookFromAPI}, &secret)
	switch {
	case err == nil:
		s.audit(c, "webhook.create", fmt.Sprintf("webhook/%d", w.ID), webhookDetails(w))
		c.Redirect(http.StatusSeeOther, "/monitoring?done=created")
	case errors.Is(err, inventory.ErrInvalid), errors.Is(err, inventory.ErrConflict):
		s.renderMonitoring(c, http.StatusBadRequest, form, plainError(err), "")
	default:
		s.pageError(c, err)
	}
}

func (s *Server) deleteWebhookForm(c *gin.Context) {
	w, ok := loadPageByID(s, c, "webhook", s.store.Webhook)
	if !ok {
		return
	}
	if w.Source == inventory.WebhookFromConfig {
		s.renderMonitoring(c, http.StatusConflict, webhookForm{}, fmt.Sprintf("Webhook %q is defined in the configuration file; remove it there.", w.Name), "")
		return
	}
	if err := s.store.DeleteWebhook(c.Request.Context(), w.ID); err != nil {
		s.pageError(c, err)
		return
	}
	s.audit(c, "webhook.delete", fmt.Sprintf("webhook/%d", w.ID), w.Name)
	c.Redirect(http.StatusSeeOther, "/monitoring?done=deleted")
}
