package web

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lanscout/lanscout/inventory"
)

// Metrics access modes for /metrics.
const (
	// MetricsToken wants an API token (any role) or a session, like the
	// API; Prometheus sends the token with `authorization` in its scrape
	// config. The default.
	MetricsToken = "token"
	// MetricsLoopback lets requests from the loopback peer in without a
	// token (a Prometheus on the same machine) and wants one from
	// anyone else. The client address is gin's ClientIP: the peer's,
	// or X-Forwarded-For's when the peer is one of the configured
	// trusted proxies (none by default). Behind a reverse proxy on the
	// same machine, list it in trusted_proxies, or every scrape through
	// it counts as loopback.
	MetricsLoopback = "loopback"
	// MetricsOpen serves everyone: for networks where only the
	// monitoring system reaches the port.
	MetricsOpen = "open"
)

// wakeOutcomes are the outcomes observeWake counts, exported at 0 before
// the first wake so rate() works from the start.
var wakeOutcomes = []string{"confirmed", "unconfirmed", "failed", "no_route"}

// metrics is lanscout's own instrumentation, in a registry of its own so
// that nothing registered globally by a library ends up in it.
type metrics struct {
	reg      *prometheus.Registry
	wakes    *prometheus.CounterVec
	requests *prometheus.HistogramVec
	scans    *prometheus.CounterVec
	scanDur  *prometheus.HistogramVec
	webhooks *prometheus.CounterVec

	// Scan runs are counted as they are seen finished in the store, so
	// runs of every scanner (the server, agents, satellites) count.
	mu       sync.Mutex
	baseline bool
	seen     map[int64]bool
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		wakes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lanscout_wakes_total",
			Help: "Wake-on-LAN requests by outcome."}, []string{"outcome"}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "lanscout_http_request_duration_seconds",
			Help:    "HTTP request latency by route template, method and status code.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"route", "method", "code"}),
		scans: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lanscout_scans_total",
			Help: "Scan runs finished since the server started, by scanner kind and status."}, []string{"scanner", "status"}),
		scanDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "lanscout_scan_duration_seconds",
			Help:    "Duration of finished scan runs by scanner kind.",
			Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200}}, []string{"scanner"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lanscout_webhook_attempts_total",
			Help: "Webhook delivery attempts by webhook and result (delivered, retry, failed)."}, []string{"webhook", "result"}),
		seen: map[int64]bool{},
	}
	for _, o := range wakeOutcomes {
		m.wakes.WithLabelValues(o)
	}
	m.reg.MustRegister(m.wakes, m.requests, m.scans, m.scanDur, m.webhooks,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&storeCollector{s: s, m: m})
	return m
}

// observeScans counts the runs that finished since the last look. The
// first look only takes a baseline: counters start with the process.
func (m *metrics) observeScans(ctx context.Context, store inventory.Store) error {
	runs, err := store.ScanRuns(ctx, 0, 500)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	window := make(map[int64]bool, len(runs))
	for _, r := range runs {
		if r.Status == inventory.ScanRunning {
			continue
		}
		window[r.ID] = true
		if m.seen[r.ID] || !m.baseline {
			continue
		}
		kind := string(r.Scanner.Kind)
		m.scans.WithLabelValues(kind, string(r.Status)).Inc()
		if !r.Finished.IsZero() {
			m.scanDur.WithLabelValues(kind).Observe(r.Finished.Sub(r.Started).Seconds())
		}
	}
	// Forget what fell out of the window, keeping the set bounded.
	m.seen = window
	m.baseline = true
	return nil
}

var (
	descDevices = prometheus.NewDesc("lanscout_devices", "Devices in the inventory by subnet, category and state.",
		[]string{"subnet", "site", "category", "state"}, nil)
	descRunning = prometheus.NewDesc("lanscout_scans_running", "Scan runs in progress.", nil, nil)
	descLastRun = prometheus.NewDesc("lanscout_subnet_last_scan_timestamp_seconds",
		"Start of the latest scan run of each subnet.", []string{"subnet"}, nil)
	descLastDur = prometheus.NewDesc("lanscout_subnet_last_scan_duration_seconds",
		"Duration of the latest finished scan run of each subnet.", []string{"subnet"}, nil)
	descOnline = prometheus.NewDesc("lanscout_scanners_online",
		"Scanners online (agents: by the agents pages' rule, revoked ones never; the server: always 1).", []string{"kind"}, nil)
	descElected = prometheus.NewDesc("lanscout_scanners_elected", "Agents elected to scan each subnet.", []string{"subnet"}, nil)
	descPending = prometheus.NewDesc("lanscout_webhook_deliveries_pending", "Webhook deliveries waiting to be sent.", nil, nil)
	descUp      = prometheus.NewDesc("lanscout_store_up", "1 when the inventory could be read for this scrape.", nil, nil)
)

// storeCollector reads the inventory at scrape time: nothing is kept in
// memory that the store already knows.
type storeCollector struct {
	s *Server
	m *metrics
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descDevices, descRunning, descLastRun, descLastDur, descOnline, descElected, descPending, descUp} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(c.s.jobs.ctx, 10*time.Second)
	defer cancel()
	if err := c.collect(ctx, ch); err != nil {
		c.s.log.Warn("metrics: read the inventory", "err", err)
		ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 1)
}

func (c *storeCollector) collect(ctx context.Context, ch chan<- prometheus.Metric) error {
	s := c.s
	db, err := s.store.Dashboard(ctx)
	if err != nil {
		return err
	}
	cidr := map[int64]string{}
	site := map[int64]string{}
	running := 0
	for _, sc := range db.Subnets {
		cidr[sc.Subnet.ID], site[sc.Subnet.ID] = sc.Subnet.CIDR, sc.Subnet.Site
		if s.runningRun(ctx, sc.Subnet.ID) != 0 {
			running++
		}
		if r := sc.LastScan; r != nil {
			ch <- prometheus.MustNewConstMetric(descLastRun, prometheus.GaugeValue, float64(r.Started.UnixMilli())/1000, sc.Subnet.CIDR)
			if !r.Finished.IsZero() {
				ch <- prometheus.MustNewConstMetric(descLastDur, prometheus.GaugeValue, r.Finished.Sub(r.Started).Seconds(), sc.Subnet.CIDR)
			}
		}
		elected, err := s.electedAgents(ctx, sc.Subnet.ID)
		if err != nil {
			return err
		}
		ch <- prometheus.MustNewConstMetric(descElected, prometheus.GaugeValue, float64(len(elected)), sc.Subnet.CIDR)
	}
	ch <- prometheus.MustNewConstMetric(descRunning, prometheus.GaugeValue, float64(running))
	counts, err := s.store.DeviceCounts(ctx)
	if err != nil {
		return err
	}
	for _, dc := range counts {
		ch <- prometheus.MustNewConstMetric(descDevices, prometheus.GaugeValue, float64(dc.Count),
			cidr[dc.SubnetID], site[dc.SubnetID], string(dc.Category), string(dc.State))
	}
	// The agents pages' rule, counted in the store: loading every agent
	// (with its NICs) on each scrape would cost more than the scrape.
	online, err := s.store.OnlineAgents(ctx, s.onlineRule())
	if err != nil {
		return err
	}
	ch <- prometheus.MustNewConstMetric(descOnline, prometheus.GaugeValue, float64(online), "agent")
	ch <- prometheus.MustNewConstMetric(descOnline, prometheus.GaugeValue, 1, "server")
	pending, err := s.store.PendingDeliveries(ctx)
	if err != nil {
		return err
	}
	ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(pending))
	return nil
}

// observeRequest times every request by its route template (never the
// raw path, whose ids would make a series per device).
func (s *Server) observeRequest(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	s.mon.metrics.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(c.Writer.Status())).
		Observe(time.Since(start).Seconds())
}

// metricsAccess admits a scrape as MonitoringOptions.MetricsAccess says.
func (s *Server) metricsAccess(c *gin.Context) {
	switch s.opts.Monitoring.MetricsAccess {
	case MetricsOpen:
		c.Next()
		return
	case MetricsLoopback:
		// The client as gin sees it: the peer, or the address a trusted
		// proxy (Options.TrustedProxies) forwarded; behind a reverse
		// proxy on the same machine every peer is loopback.
		if ip := net.ParseIP(c.ClientIP()); ip != nil && ip.IsLoopback() {
			c.Next()
			return
		}
	}
	s.requireAPI(c)
}

func (s *Server) serveMetrics(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	// Before gathering, not inside a collector: the registry collects
	// concurrently, so counters moved during Collect could miss this
	// scrape.
	if err := s.mon.metrics.observeScans(c.Request.Context(), s.store); err != nil {
		s.log.Warn("metrics: observe scans", "err", err)
	}
	s.mon.metricsHandler.ServeHTTP(c.Writer, c.Request)
}

func newMetricsHandler(m *metrics, s *Server) http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:            slogPromLogger{s},
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 2,
		Timeout:             30 * time.Second,
	})
}

// slogPromLogger passes promhttp's errors to the server's log.
type slogPromLogger struct{ s *Server }

func (l slogPromLogger) Println(v ...any) { l.s.log.Warn("metrics", "err", v) }
