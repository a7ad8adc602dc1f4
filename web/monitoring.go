package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/inventory/export"
	"github.com/lanscout/lanscout/typing"
)

// MonitoringOptions configure the exports to monitoring systems, /metrics
// and webhooks.
type MonitoringOptions struct {
	// Export maps categories and credentials to snmp_exporter modules and
	// categories to Icinga 2 and Nagios templates.
	Export export.Options
	// MetricsAccess is who may read /metrics: MetricsToken (default),
	// MetricsLoopback or MetricsOpen.
	MetricsAccess string
	// Webhooks are defined in the configuration file; the file owns them.
	Webhooks []WebhookConfig
	// WebhookPoll is how often the event log is read for new events and
	// due retries are sent; default 5s.
	WebhookPoll time.Duration
	// WebhookTimeout bounds one delivery attempt; default 10s.
	WebhookTimeout time.Duration
	// WebhookRetryBase is the wait before the first retry, doubled each
	// time up to an hour; default 30s.
	WebhookRetryBase time.Duration
	// WebhookMaxAttempts is how many tries a delivery gets before it is
	// failed for good; default 10 (about 8.5 hours with the default base).
	WebhookMaxAttempts int
	// WebhookKeep is how long delivered and failed deliveries stay in the
	// log; default 7 days.
	WebhookKeep time.Duration
}

type monitoringService struct {
	metrics        *metrics
	metricsHandler http.Handler
	notifier       *notifier
}

func (s *Server) initMonitoring() error {
	o := &s.opts.Monitoring
	if err := o.Export.Validate(); err != nil {
		return fmt.Errorf("web: monitoring export: %w", err)
	}
	switch o.MetricsAccess {
	case "":
		o.MetricsAccess = MetricsToken
	case MetricsToken, MetricsLoopback, MetricsOpen:
	default:
		return fmt.Errorf("web: metrics access %q: want token, loopback or open", o.MetricsAccess)
	}
	if o.WebhookPoll <= 0 {
		o.WebhookPoll = 5 * time.Second
	}
	if o.WebhookTimeout <= 0 {
		o.WebhookTimeout = 10 * time.Second
	}
	if o.WebhookRetryBase <= 0 {
		o.WebhookRetryBase = 30 * time.Second
	}
	if o.WebhookMaxAttempts <= 0 {
		o.WebhookMaxAttempts = 10
	}
	if o.WebhookKeep <= 0 {
		o.WebhookKeep = 7 * 24 * time.Hour
	}
	m := newMetrics(s)
	s.mon = &monitoringService{metrics: m, metricsHandler: newMetricsHandler(m, s)}
	s.mon.notifier = newNotifier(s)
	ctx, cancel := context.WithTimeout(s.jobs.ctx, 30*time.Second)
	defer cancel()
	// The baseline of finished runs is taken now, so that a run finishing
	// before the first scrape is counted.
	if err := m.observeScans(ctx, s.store); err != nil {
		return fmt.Errorf("web: metrics: %w", err)
	}
	if err := s.syncConfigWebhooks(ctx); err != nil {
		return fmt.Errorf("web: %w", err)
	}
	s.jobs.wg.Go(func() { s.mon.notifier.run(s.jobs.ctx) })
	s.jobs.every(time.Hour, func(ctx context.Context) {
		if n, err := s.store.PruneDeliveries(ctx, s.opts.Now().Add(-o.WebhookKeep)); err != nil && ctx.Err() == nil {
			s.log.Warn("prune webhook deliveries", "err", err)
		} else if n > 0 {
			s.log.Info("pruned webhook deliveries", "count", n)
		}
	})
	// Scans finished between scrapes are counted even when nobody
	// scrapes for a while (the store's window is 500 runs).
	s.jobs.every(time.Minute, func(ctx context.Context) {
		if err := m.observeScans(ctx, s.store); err != nil && ctx.Err() == nil {
			s.log.Warn("metrics: observe scans", "err", err)
		}
	})
	return nil
}

func (s *Server) monitoringRoutes(e *gin.Engine, ui, api *gin.RouterGroup) {
	e.GET("/metrics", s.metricsAccess, s.serveMetrics)

	ui.GET("/monitoring", s.monitoringPage)
	ui.POST("/monitoring/webhooks", s.requireRole(inventory.RoleAdmin), s.createWebhookForm)
	ui.POST("/monitoring/webhooks/:id/delete", s.requireRole(inventory.RoleAdmin), s.deleteWebhookForm)
	ui.POST("/monitoring/webhooks/:id/test", s.requireRole(inventory.RoleAdmin), s.testWebhookForm)

	api.GET("/sd/prometheus", s.apiPrometheusSD)
	api.GET("/export/:format", s.apiExport)
	api.GET("/webhooks", s.requireRole(inventory.RoleAdmin), s.apiWebhooks)
	api.POST("/webhooks", s.requireRole(inventory.RoleAdmin), s.apiCreateWebhook)
	api.GET("/webhooks/:id", s.requireRole(inventory.RoleAdmin), s.apiWebhook)
	api.PUT("/webhooks/:id", s.requireRole(inventory.RoleAdmin), s.apiUpdateWebhook)
	api.DELETE("/webhooks/:id", s.requireRole(inventory.RoleAdmin), s.apiDeleteWebhook)
	api.GET("/webhooks/:id/deliveries", s.requireRole(inventory.RoleAdmin), s.apiWebhookDeliveries)
	api.POST("/webhooks/:id/test", s.requireRole(inventory.RoleAdmin), s.apiTestWebhook)
}

// observeWake counts a wake's outcome for /metrics ("confirmed",
// "unconfirmed", "failed", "no_route").
func (s *Server) observeWake(outcome string) {
	if s.mon == nil {
		return
	}
	s.mon.metrics.wakes.WithLabelValues(outcome).Inc()
}

// emitEvent hands an event that is not in the store's device event log
// (a wake's outcome) to the webhooks. kind is e.g. "wake.outcome". The
// delivery is stored before this returns, so it survives a restart; a
// failure to store it is logged, not returned: the wake has happened.
func (s *Server) emitEvent(ctx context.Context, kind string, payload any) {
	if s.mon == nil {
		return
	}
	if err := s.mon.notifier.emit(context.WithoutCancel(ctx), kind, payload); err != nil {
		s.log.Error("webhooks: queue event", "kind", kind, "err", err)
	}
}

// exportFilter reads an export's filters from the query: category,
// subnet (id or CIDR) and site, each repeatable or comma-separated, and
// state (up, gone or all). Unset, each format's default applies.
func exportFilter(c *gin.Context, format string) (export.Filter, error) {
	f := export.DefaultFilter(format)
	q := c.Request.URL.Query()
	for _, cat := range export.ParseList(q["category"]) {
		f.Categories = append(f.Categories, typing.Category(cat))
	}
	f.Subnets = export.ParseList(q["subnet"])
	f.Sites = export.ParseList(q["site"])
	if v, ok := q["state"]; ok {
		switch st := v[len(v)-1]; st {
		case "all", "":
			f.State = ""
		default:
			f.State = inventory.DeviceState(st)
		}
	}
	return f, f.Validate()
}

// apiPrometheusSD serves Prometheus HTTP service discovery: always 200
// with the whole list, "[]" when empty, as http_sd_configs requires.
func (s *Server) apiPrometheusSD(c *gin.Context) {
	f, err := exportFilter(c, "prometheus")
	if err != nil {
		apiError(c, http.StatusBadRequest, err.Error())
		return
	}
	hosts, err := export.Collect(c.Request.Context(), s.store, f)
	if err != nil {
		s.storeError(c, err)
		return
	}
	c.JSON(http.StatusOK, export.PrometheusTargets(hosts, s.opts.Monitoring.Export.Prometheus))
}

var exportFiles = map[string]struct{ name, contentType string }{
	"prometheus": {"lanscout-targets.json", "application/json; charset=utf-8"},
	"icinga2":    {"lanscout-hosts.conf", "text/plain; charset=utf-8"},
	"nagios":     {"lanscout-hosts.cfg", "text/plain; charset=utf-8"},
	"csv":        {"lanscout-devices.csv", "text/csv; charset=utf-8"},
	"json":       {"lanscout-devices.json", "application/json; charset=utf-8"},
}

// apiExport downloads an export, the same bytes `lanscout export` writes.
func (s *Server) apiExport(c *gin.Context) {
	format := c.Param("format")
	file, ok := exportFiles[format]
	if !ok {
		apiError(c, http.StatusNotFound, fmt.Sprintf("no export format %q (prometheus, icinga2, nagios, csv, json)", format))
		return
	}
	f, err := exportFilter(c, format)
	if err != nil {
		apiError(c, http.StatusBadRequest, err.Error())
		return
	}
	hosts, err := export.Collect(c.Request.Context(), s.store, f)
	if err != nil {
		s.storeError(c, err)
		return
	}
	// Into a buffer first: an error halfway must not become half a
	// configuration file that a monitoring system then loads.
	var buf bytes.Buffer
	if err := export.Write(&buf, format, hosts, s.opts.Monitoring.Export); err != nil {
		s.storeError(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="`+file.name+`"`)
	c.Data(http.StatusOK, file.contentType, buf.Bytes())
}
