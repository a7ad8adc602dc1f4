package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/scan"
	"github.com/lanscout/lanscout/snmp"
)

// ScanFunc runs one scan of a subnet with the given SNMP credentials
// (already revealed; empty means the default) and calls device for each
// device as it is identified, one call at a time. It returns what
// scan.Run returns. The server owns the store side; the function owns how
// the engine is configured, so the CLI and the server build scans one way.
type ScanFunc func(ctx context.Context, sn inventory.Subnet, creds []snmp.Credential, device func(scan.Device)) (*scan.Report, error)

// Options configure a Server.
type Options struct {
	Store  inventory.Store
	Logger *slog.Logger // default: discard
	// TrustedProxies are the addresses or CIDRs of reverse proxies whose
	// X-Forwarded-For is believed. None by default: the client address is
	// the peer's, so nobody can dodge the login rate limit with a header.
	TrustedProxies []string
	SessionTTL     time.Duration // default 12h
	// MaxBodyBytes caps request bodies; default 1 MiB.
	MaxBodyBytes int64
	// Scan runs scans for "Scan now"; nil disables it (503).
	Scan ScanFunc
	// Login rate limits: failed logins allowed per window per client
	// address and per username. Defaults 20 and 5 per 15 minutes.
	LoginFailuresPerIP, LoginFailuresPerUser int
	LoginWindow                              time.Duration
	// ScheduleCheck is how often subnets' schedules are checked for due
	// scans; default 30s, negative to run no scheduled scans.
	ScheduleCheck time.Duration
	Now           func() time.Time // default time.Now

	// Each feature keeps its own options beside its handlers.
	Agents     AgentOptions      // agents.go: enrollment and the agent protocol
	Election   ElectionOptions   // election.go: who scans each subnet
	Wake       WakeOptions       // wake.go: Wake-on-LAN routes and satellites
	Monitoring MonitoringOptions // monitoring.go: Prometheus, Icinga/Nagios, webhooks
	OCS        OCSOptions        // ocs.go: the OCS Inventory agent endpoint
	Admin      AdminOptions      // admin.go: what the admin pages show, the rules file's types
	Retention  RetentionOptions  // retention.go: how long tasks, runs, events and the audit log are kept
}

// Server is the appliance's HTTP side: UI pages, the REST API and the
// scan jobs they start.
type Server struct {
	store   inventory.Store
	log     *slog.Logger
	opts    Options
	engine  *gin.Engine
	handler http.Handler
	pages   map[string]*template.Template
	limiter *loginLimiter
	jobs    *jobs

	// Feature state, each built by its init method below.
	agents   *agentService
	election *electionService
	wake     *wakeService
	mon      *monitoringService
	ocs      *ocsService
	live     *liveService
}

// New builds a Server. Close it to stop its scans.
func New(opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("web: no store")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.LoginWindow <= 0 {
		opts.LoginWindow = 15 * time.Minute
	}
	if opts.LoginFailuresPerIP <= 0 {
		opts.LoginFailuresPerIP = 20
	}
	if opts.LoginFailuresPerUser <= 0 {
		opts.LoginFailuresPerUser = 5
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ScheduleCheck == 0 {
		opts.ScheduleCheck = 30 * time.Second
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	s := &Server{
		store:   opts.Store,
		log:     opts.Logger,
		opts:    opts,
		pages:   pages,
		limiter: newLoginLimiter(opts.LoginWindow, opts.LoginFailuresPerIP, opts.LoginFailuresPerUser, opts.Now),
		jobs:    newJobs(opts.Store, opts.Scan, opts.Logger),
	}
	// gin's mode is process-wide; release mode only silences its debug
	// printing, which would otherwise go to stdout beside our own logs.
	for _, init := range []func() error{s.initLive, s.initAgents, s.initElection, s.initWake, s.initMonitoring, s.initOCS, s.initRetention} {
		if err := init(); err != nil {
			s.jobs.cancel()
			return nil, err
		}
	}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	if err := e.SetTrustedProxies(opts.TrustedProxies); err != nil {
		s.jobs.cancel()
		return nil, fmt.Errorf("web: trusted proxies: %w", err)
	}
	e.HandleMethodNotAllowed = true
	e.Use(s.observeRequest, s.logRequests, s.recover) // observeRequest: monitoring.go, API latency for /metrics
	s.routes(e)
	s.engine = e

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log.Warn("cross-origin request refused", "method", r.Method, "path", r.URL.Path,
			"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
		writeJSONError(w, http.StatusForbidden, "cross-origin request refused")
	}))
	s.handler = s.secure(cop.Handler(e))
	// Expired sessions are refused on lookup already; purging them keeps
	// the table from growing with every login.
	s.jobs.every(time.Hour, func(ctx context.Context) {
		n, err := s.store.PurgeExpiredSessions(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("purge expired sessions", "err", err)
		} else if n > 0 {
			s.log.Info("purged expired sessions", "count", n)
		}
	})
	if opts.ScheduleCheck > 0 && opts.Scan != nil {
		s.startScheduler(opts.ScheduleCheck)
	}
	return s, nil
}

// Handler returns the whole HTTP handler: security headers, body limits
// and cross-origin protection around the router.
func (s *Server) Handler() http.Handler { return s.handler }

// Close cancels running scans and waits for them to store what they found,
// until ctx ends.
func (s *Server) Close(ctx context.Context) error { return s.jobs.close(ctx) }

func (s *Server) routes(e *gin.Engine) {
	e.GET("/static/*path", s.static)
	e.GET("/login", s.loginPage)
	e.POST("/login", s.login)
	e.POST("/logout", s.logout)
	e.GET("/healthz", func(c *gin.Context) { c.String(http.StatusOK, "ok\n") })

	ui := e.Group("/", s.requireSession)
	ui.GET("/", s.dashboardPage)
	ui.GET("/devices", s.devicesPage)
	ui.GET("/devices/:id", s.devicePage)
	ui.POST("/devices/:id/identify", s.requireRole(inventory.RoleOperator), s.identifyForm)
	ui.POST("/devices/:id/unidentify", s.requireRole(inventory.RoleOperator), s.unidentifyForm)
	ui.GET("/subnets", s.subnetsPage)
	ui.POST("/subnets", s.requireRole(inventory.RoleAdmin), s.createSubnetForm)
	ui.POST("/subnets/:id/scan", s.requireRole(inventory.RoleOperator), s.scanSubnetForm)
	ui.GET("/subnets/:id/edit", s.requireRole(inventory.RoleAdmin), s.editSubnetPage)
	ui.POST("/subnets/:id/edit", s.requireRole(inventory.RoleAdmin), s.editSubnetForm)
	ui.POST("/subnets/:id/delete", s.requireRole(inventory.RoleAdmin), s.deleteSubnetForm)

	api := e.Group("/api/v1", s.requireAPI)
	api.GET("/me", s.apiMe)
	api.GET("/dashboard", s.apiDashboard)
	api.GET("/devices", s.apiDevices)
	api.GET("/devices.csv", s.apiDevicesCSV)
	api.GET("/devices.json", s.apiDevicesJSON)
	api.GET("/devices/:id", s.apiDevice)
	api.PUT("/devices/:id/identify", s.requireRole(inventory.RoleOperator), s.apiIdentify)
	api.DELETE("/devices/:id/identify", s.requireRole(inventory.RoleOperator), s.apiUnidentify)
	api.GET("/subnets", s.apiSubnets)
	api.POST("/subnets", s.requireRole(inventory.RoleAdmin), s.apiCreateSubnet)
	api.GET("/subnets/:id", s.apiSubnet)
	api.PUT("/subnets/:id", s.requireRole(inventory.RoleAdmin), s.apiUpdateSubnet)
	api.DELETE("/subnets/:id", s.requireRole(inventory.RoleAdmin), s.apiDeleteSubnet)
	api.POST("/subnets/:id/scan", s.requireRole(inventory.RoleOperator), s.apiScanSubnet)
	api.GET("/subnets/:id/scans", s.apiSubnetScans)
	api.GET("/scans/:id", s.apiScanRun)

	s.adminRoutes(ui, api)
	s.liveRoutes(ui, api)
	s.agentRoutes(e, ui, api)
	s.electionRoutes(ui, api)
	s.wakeRoutes(ui, api)
	s.satelliteRoutes(ui, api)
	s.monitoringRoutes(e, ui, api)
	s.ocsRoutes(e)

	e.NoRoute(s.notFound)
	e.NoMethod(func(c *gin.Context) {
		if isAPI(c) {
			apiError(c, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		c.String(http.StatusMethodNotAllowed, "method not allowed\n")
	})
}
