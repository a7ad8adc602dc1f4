package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lanscout/lanscout/agent/protocol"
	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/scan"
)

// AgentOptions configure our own agents: how often they call, how long
// their tasks may take, and the scan settings handed to them.
type AgentOptions struct {
	// PollInterval is told to agents at enrollment and every hello;
	// default 60s. Agents add jitter of their own.
	PollInterval time.Duration
	// OfflineAfter is how long after its last contact an agent counts as
	// offline on the pages; default 3 of its poll intervals.
	OfflineAfter int
	// ScanTimeout bounds a scan task, from queueing to its final result;
	// default 1h. WakeTimeout bounds a task without a deadline of its own
	// (wake tasks), default 2m.
	ScanTimeout, WakeTimeout time.Duration
	// The scan settings of scan tasks: SNMP port, timeout, retries, the
	// ports of the tcp method, the probe rate (0: the engine's default)
	// and the sweep's extra passes for silent addresses (0: the engine's
	// default, negative: none), as discover.Options take them.
	SNMPPort    uint16
	SNMPTimeout time.Duration
	SNMPRetries int
	TCPPorts    []uint16
	ScanRate    int
	ScanRetries int
	// ListenBetweenSweeps, when positive, follows each successful agent
	// scan with a passive listen task of that length on the same agent,
	// reporting new MACs as they appear. 0: off.
	ListenBetweenSweeps time.Duration
	// MaxWait caps a long poll for tasks; default protocol.MaxWait.
	MaxWait time.Duration
}

// agentService is the server's side of the agent protocol: who waits for
// tasks, who waits for results.
type agentService struct {
	opts AgentOptions

	mu sync.Mutex
	// polling wakes an agent's long poll when a task is queued for it.
	polling map[int64]chan struct{}
	// finished wakes awaitAgentTask when a task's final result is in.
	finished map[string]chan struct{}

	// upload serialises result uploads, so that two copies of one batch
	// (a retry racing the original) are stored once.
	upload sync.Mutex
	// dispatch serialises scanViaAgents: a subnet with an open task is not
	// queued twice.
	dispatch sync.Mutex
	// enrollLimiter counts enrollments with unknown keys per client
	// address: the endpoint is open, keys must not be guessed.
	enrollLimiter *loginLimiter
}

func (s *Server) initAgents() error {
	o := s.opts.Agents
	if o.PollInterval <= 0 {
		o.PollInterval = time.Minute
	}
	if o.OfflineAfter <= 0 {
		o.OfflineAfter = 3
	}
	if o.ScanTimeout <= 0 {
		o.ScanTimeout = time.Hour
	}
	if o.WakeTimeout <= 0 {
		o.WakeTimeout = 2 * time.Minute
	}
	if o.MaxWait <= 0 || o.MaxWait > protocol.MaxWait {
		o.MaxWait = protocol.MaxWait
	}
	if o.SNMPPort == 0 {
		o.SNMPPort = 161
	}
	if o.SNMPTimeout <= 0 {
		o.SNMPTimeout = time.Second
	}
	s.agents = &agentService{opts: o, polling: map[int64]chan struct{}{}, finished: map[string]chan struct{}{},
		enrollLimiter: newLoginLimiter(enrollFailureWindow, enrollFailuresPerIP, math.MaxInt, s.opts.Now)}
	// Tasks whose agent went quiet end as expired rather than block their
	// subnet for ever; their scan runs close as failed.
	s.jobs.every(15*time.Second, s.expireAgentTasks)
	return nil
}

func (s *Server) agentRoutes(e *gin.Engine, ui, api *gin.RouterGroup) {
	// The agent protocol: no sessions, no CSRF tokens; the agent token is
	// the credential, and agents send no Origin or Sec-Fetch-Site, so the
	// cross-origin protection lets them through.
	ag := e.Group("/agent/v1")
	ag.POST("/enroll", s.agentEnroll)
	authed := ag.Group("", s.requireAgent)
	authed.POST("/hello", s.agentHello)
	authed.PUT("/inventory", s.agentInventory)
	authed.GET("/tasks", s.agentTasks)
	authed.POST("/tasks/:task/result", s.agentResult)

	api.GET("/agents", s.apiAgents)
	api.GET("/agents/:id", s.apiAgent)
	api.GET("/agents/:id/tasks", s.apiAgentTasks)
	api.POST("/agents/:id/revoke", s.requireRole(inventory.RoleAdmin), s.apiRevokeAgent)
	api.POST("/agents/:id/reinstate", s.requireRole(inventory.RoleAdmin), s.apiReinstateAgent)
	api.DELETE("/agents/:id", s.requireRole(inventory.RoleAdmin), s.apiDeleteAgent)
	keys := api.Group("/enrollment-keys", s.requireRole(inventory.RoleAdmin))
	keys.GET("", s.apiEnrollmentKeys)
	keys.POST("", s.apiCreateEnrollmentKey)
	keys.GET("/:id", s.apiEnrollmentKey)
	keys.POST("/:id/revoke", s.apiRevokeEnrollmentKey)
	keys.DELETE("/:id", s.apiDeleteEnrollmentKey)

	ui.GET("/agents", s.agentsPage)
	ui.GET("/agents/:id", s.agentPage)
	ui.POST("/agents/:id/revoke", s.requireRole(inventory.RoleAdmin), s.revokeAgentForm)
	ui.GET("/enrollment-keys", s.requireRole(inventory.RoleAdmin), s.enrollmentKeysPage)
	ui.POST("/enrollment-keys", s.requireRole(inventory.RoleAdmin), s.createEnrollmentKeyForm)
	ui.POST("/enrollment-keys/:id/revoke", s.requireRole(inventory.RoleAdmin), s.revokeEnrollmentKeyForm)
}

// ---- the agent protocol ----

const agentAuthKey = "lanscout.agent"

func agentOf(c *gin.Context) inventory.AgentAuth {
	v, _ := c.Get(agentAuthKey)
	a, _ := v.(inventory.AgentAuth)
	return a
}

// agentError ends an agent request with a JSON error.
func agentError(c *gin.Context, status int, msg string) {
	c.AbortWithStatusJSON(status, protocol.Error{Error: msg})
}

// requireAgent admits a request bearing a live agent token.
func (s *Server) requireAgent(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	scheme, tok, ok := strings.Cut(c.GetHeader("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, protocol.AuthScheme) || strings.TrimSpace(tok) == "" {
		c.Header("WWW-Authenticate", `Bearer realm="lanscout-agent"`)
		agentError(c, http.StatusUnauthorized, "agent token required: Authorization: Bearer TOKEN (enroll first)")
		return
	}
	a, err := s.store.AuthenticateAgent(c.Request.Context(), strings.TrimSpace(tok))
	switch {
	case errors.Is(err, inventory.ErrRevoked):
		agentError(c, http.StatusForbidden, "this agent was revoked by an admin; it gets no tasks and its reports are refused")
		return
	case errors.Is(err, inventory.ErrBadCredentials):
		c.Header("WWW-Authenticate", `Bearer realm="lanscout-agent", error="invalid_token"`)
		agentError(c, http.StatusUnauthorized, "unknown agent token: enroll again with an enrollment key")
		return
	case err != nil:
		s.log.Error("authenticate agent", "err", err)
		agentError(c, http.StatusInternalServerError, "internal error")
		return
	}
	c.Set(agentAuthKey, a)
	c.Next()
}

// decodeAgent reads an agent body: gzip or plain JSON, within the
// protocol's limits. A refused body is answered 413 or 400 and nothing of
// it is used.
func decodeAgent(c *gin.Context, v any) bool {
	err := protocol.Decode(c.Request.Body, c.GetHeader("Content-Encoding"), v)
	if err == nil {
		return true
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		agentError(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", tooBig.Limit))
	case errors.Is(err, protocol.ErrTooLarge):
		agentError(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("body too large: at most %d bytes as sent, %d decompressed, %d devices a batch",
			protocol.MaxBodyBytes, protocol.MaxDecodedBytes, protocol.MaxBatchDevices))
	default:
		agentError(c, http.StatusBadRequest, err.Error())
	}
	return false
}

// The limits of the enrollment endpoint, which answers anyone: a small
// body, a bounded address list, and a budget of unknown-key guesses per
// client address.
const (
	maxEnrollBytes      = 64 << 10
	maxEnrollAddresses  = 1024
	enrollFailuresPerIP = 20
	enrollFailureWindow = 15 * time.Minute
)

// The bounds of the poll interval an agent may announce.
const (
	minAgentPoll = time.Second
	maxAgentPoll = 24 * time.Hour
)

// decodeEnroll reads an enroll body within maxEnrollBytes, as sent and
// decompressed; a refused body is answered 413 or 400.
func decodeEnroll(c *gin.Context, v any) bool {
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxEnrollBytes))
	if err == nil && strings.EqualFold(strings.TrimSpace(c.GetHeader("Content-Encoding")), "gzip") {
		var zr *gzip.Reader
		if zr, err = gzip.NewReader(bytes.NewReader(raw)); err == nil {
			raw, err = io.ReadAll(io.LimitReader(zr, maxEnrollBytes+1))
			if err == nil && len(raw) > maxEnrollBytes {
				err = &http.MaxBytesError{Limit: maxEnrollBytes}
			}
		}
		if err != nil && !errors.As(err, new(*http.MaxBytesError)) {
			agentError(c, http.StatusBadRequest, fmt.Sprintf("%v: gzip: %v", protocol.ErrMalformed, err))
			return false
		}
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		agentError(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("enrollment body larger than %d bytes", maxEnrollBytes))
		return false
	}
	if err != nil {
		agentError(c, http.StatusBadRequest, "read body: "+err.Error())
		return false
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(raw))
	c.Request.Header.Del("Content-Encoding")
	return decodeAgent(c, v)
}

func (s *Server) agentEnroll(c *gin.Context) {
	ip := c.ClientIP()
	if wait := s.agents.enrollLimiter.blocked(ip, ""); wait > 0 {
		c.Header("Retry-After", strconv.Itoa(int(wait.Round(time.Second).Seconds())))
		agentError(c, http.StatusTooManyRequests, "too many enrollments with unknown keys from this address; try later")
		return
	}
	var req protocol.EnrollRequest
	if !decodeEnroll(c, &req) {
		return
	}
	if len(req.Addresses) > maxEnrollAddresses {
		agentError(c, http.StatusBadRequest, fmt.Sprintf("%d addresses, at most %d", len(req.Addresses), maxEnrollAddresses))
		return
	}
	tok, a, err := s.store.EnrollAgent(c.Request.Context(), inventory.Enrollment{
		Key: strings.TrimSpace(req.Key), UID: req.UID, Hostname: req.Hostname, Version: req.Version, Addresses: req.Addresses})
	auditAs := func(outcome string) {
		e := inventory.AuditEntry{Actor: "agent:" + req.UID, Action: "agent.enroll", Target: "agent/" + req.UID,
			Details: fmt.Sprintf("%s (%s): %s", req.Hostname, strings.Join(req.Addresses, ", "), outcome), RemoteAddr: c.ClientIP()}
		if a.ID != 0 {
			e.Target = fmt.Sprintf("agent/%d", a.ID)
		}
		if err := s.store.Audit(c.Request.Context(), e); err != nil {
			s.log.Error("audit", "action", e.Action, "err", err)
		}
	}
	switch {
	case err == nil:
	case errors.Is(err, inventory.ErrBadCredentials):
		s.agents.enrollLimiter.fail(ip, "")
		auditAs("refused: unknown key")
		agentError(c, http.StatusUnauthorized, "unknown enrollment key")
		return
	case errors.Is(err, inventory.ErrConflict):
		auditAs("refused: already enrolled")
		agentError(c, http.StatusConflict, "refused: agent "+req.UID+" is already enrolled; an admin deletes it to enroll it again")
		return
	case errors.Is(err, inventory.ErrRevoked):
		auditAs("refused: " + plainError(err))
		agentError(c, http.StatusForbidden, "refused: "+plainError(err))
		return
	case errors.Is(err, inventory.ErrExpired):
		auditAs("refused: key expired")
		agentError(c, http.StatusForbidden, "refused: the enrollment key has expired")
		return
	case errors.Is(err, inventory.ErrOutOfScope):
		auditAs("refused: " + plainError(err))
		agentError(c, http.StatusForbidden, "refused: "+plainError(err))
		return
	case errors.Is(err, inventory.ErrInvalid):
		agentError(c, http.StatusBadRequest, plainError(err))
		return
	default:
		s.log.Error("enroll agent", "uid", req.UID, "err", err)
		agentError(c, http.StatusInternalServerError, "internal error")
		return
	}
	auditAs("enrolled")
	s.log.Info("agent enrolled", "agent", a.ID, "uid", a.UID, "host", req.Hostname)
	c.JSON(http.StatusOK, protocol.EnrollReply{AgentID: a.ID, UID: a.UID, Token: tok,
		PollIntervalMS: s.agents.opts.PollInterval.Milliseconds()})
}

func (s *Server) agentHello(c *gin.Context) {
	auth := agentOf(c)
	var h protocol.Hello
	if !decodeAgent(c, &h) {
		return
	}
	ctx := c.Request.Context()
	a, err := s.store.RecordAgentContact(ctx, auth.UID, inventory.AgentLanscout)
	if errors.Is(err, inventory.ErrUIDTaken) {
		agentError(c, http.StatusConflict, "refused: agent "+auth.UID+" is recorded as an agent of another kind")
		return
	}
	if err != nil {
		s.log.Error("agent contact", "agent", auth.AgentID, "err", err)
		agentError(c, http.StatusInternalServerError, "internal error")
		return
	}
	caps := knownCapabilities(h.Capabilities)
	// The agent's word feeds the offline threshold and the election:
	// kept within [1s, 24h] (clamped as milliseconds, which cannot
	// overflow a Duration).
	poll := time.Duration(min(h.PollIntervalMS, maxAgentPoll.Milliseconds())) * time.Millisecond
	if poll <= 0 {
		poll = s.agents.opts.PollInterval
	}
	poll = min(max(poll, minAgentPoll), maxAgentPoll)
	// Most hellos change nothing; only a change costs a second write.
	if !slices.Equal(caps, a.Capabilities) || poll != a.PollInterval {
		if err := s.store.SetAgentHello(ctx, auth.AgentID, caps, poll); err != nil {
			s.log.Error("agent hello", "agent", auth.AgentID, "err", err)
			agentError(c, http.StatusInternalServerError, "internal error")
			return
		}
	}
	s.dropLostTasks(ctx, auth.AgentID, h.Running)
	if err := s.reelect(ctx, "contact of agent "+auth.UID); err != nil {
		s.log.Warn("reelect after agent contact", "agent", auth.AgentID, "err", err)
	}
	c.JSON(http.StatusOK, protocol.HelloReply{
		AgentID:        auth.AgentID,
		PollIntervalMS: s.agents.opts.PollInterval.Milliseconds(),
		SendInventory:  a.LastInventory.IsZero() || h.InventoryHash == "" || h.InventoryHash != auth.InventoryHash,
		ServerTime:     s.opts.Now().UTC(),
	})
}

// taskRetries turns AgentOptions.ScanRetries (discover.Options' sense: 0
// the default, negative none) into a scan task's (-1 the default, 0
// none).
func taskRetries(n int) int {
	switch {
	case n == 0:
		return -1
	case n < 0:
		return 0
	}
	return n
}

// lostTaskGrace is how long a delivered task may be missing from the
// agent's running list: the answer carrying it may still be on its way.
const lostTaskGrace = 30 * time.Second

// dropLostTasks fails the tasks delivered to an agent that it no longer
// runs (it restarted, or never got the answer that carried them), so a
// subnet is not blocked until the task's deadline. An agent runs a task
// until its final result is uploaded, so a task still uploading is in the
// list.
func (s *Server) dropLostTasks(ctx context.Context, agentID int64, running []string) {
	open, err := s.store.AgentTasks(ctx, inventory.AgentTaskQuery{AgentID: agentID, OpenOnly: true, Limit: 100})
	if err != nil {
		s.log.Warn("open tasks of agent", "agent", agentID, "err", err)
		return
	}
	cutoff := s.opts.Now().Add(-lostTaskGrace)
	for _, at := range open {
		if at.Status != inventory.TaskDelivered || !at.Delivered.Before(cutoff) || slices.Contains(running, at.ID) {
			continue
		}
		s.closeTask(ctx, at, inventory.TaskFailed, protocol.TaskResult{TaskID: at.ID, Final: true, Finished: s.opts.Now(),
			Error: "the agent is no longer running this task (it restarted, or never received it)"})
	}
}

// knownCapabilities keeps the capabilities the server plans with, sorted:
// an agent cannot fill the column with whatever it likes.
func knownCapabilities(in []string) []string {
	out := []string{}
	for _, c := range in {
		if c == string(protocol.CapRawSockets) && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

func (s *Server) agentInventory(c *gin.Context) {
	auth := agentOf(c)
	var inv protocol.Inventory
	if !decodeAgent(c, &inv) {
		return
	}
	if len(inv.NICs) > 1024 {
		agentError(c, http.StatusBadRequest, fmt.Sprintf("%d interfaces, at most 1024", len(inv.NICs)))
		return
	}
	raw, _ := json.Marshal(inv)
	rec := inventory.AgentInventory{
		UID: auth.UID, Kind: inventory.AgentLanscout, Hostname: inv.Hostname, OSName: inv.OSName,
		OSVersion: inv.OSVersion, Kernel: inv.Kernel, Manufacturer: inv.Manufacturer, Model: inv.Model,
		Serial: inv.Serial, UUID: inv.UUID, Version: inv.Version, Raw: string(raw),
	}
	outside := 0
	for _, n := range inv.NICs {
		addrs := inScope(n.Addresses, auth.Subnets)
		outside += len(n.Addresses) - len(addrs)
		rec.NICs = append(rec.NICs, inventory.NIC{Name: n.Name, MAC: n.MAC, Kind: inventory.NICKind(n.Kind),
			State: n.State, Addresses: addrs})
	}
	if outside > 0 {
		s.log.Info("agent inventory: addresses outside the agent's enrollment scope left out", "agent", auth.AgentID,
			"count", outside, "scope", strings.Join(auth.Subnets, ", "))
	}
	ctx := c.Request.Context()
	if _, err := s.store.RecordAgentInventory(ctx, rec); err != nil {
		if errors.Is(err, inventory.ErrUIDTaken) {
			agentError(c, http.StatusConflict, "refused: agent "+auth.UID+" is recorded as an agent of another kind")
			return
		}
		if errors.Is(err, inventory.ErrInvalid) {
			agentError(c, http.StatusBadRequest, plainError(err))
			return
		}
		s.log.Error("agent inventory", "agent", auth.AgentID, "err", err)
		agentError(c, http.StatusInternalServerError, "internal error")
		return
	}
	if err := s.store.SetAgentInventoryHash(ctx, auth.AgentID, inv.Hash); err != nil {
		s.log.Warn("agent inventory hash", "agent", auth.AgentID, "err", err)
	}
	// New NICs may make it a candidate somewhere else.
	if err := s.reelect(ctx, "inventory of agent "+auth.UID); err != nil {
		s.log.Warn("reelect after agent inventory", "agent", auth.AgentID, "err", err)
	}
	c.Status(http.StatusNoContent)
}

// inScope keeps the addresses (with or without prefix) inside one of
// subnets, all of them when subnets is empty: an agent enrolled with a
// key limited to subnets is a candidate there only, whatever NICs it
// reports later.
func inScope(addrs, subnets []string) []string {
	if len(subnets) == 0 {
		return slices.Clone(addrs)
	}
	out := []string{}
	for _, a := range addrs {
		_, errA := netip.ParseAddr(strings.TrimSpace(a))
		_, errP := netip.ParsePrefix(strings.TrimSpace(a))
		// A malformed address is kept for the store to refuse the
		// inventory with a clear error.
		if (errA != nil && errP != nil) || (inventory.EnrollmentKey{Subnets: subnets}).Admits([]string{a}) {
			out = append(out, a)
		}
	}
	return out
}

// waitChan returns the channel of key in m, made if there is none yet;
// signalChan closes it. The caller holds the lock of m.
func waitChan[K comparable](m map[K]chan struct{}, key K) chan struct{} {
	ch, ok := m[key]
	if !ok {
		ch = make(chan struct{})
		m[key] = ch
	}
	return ch
}

// signalChan wakes every waiter on key's channel in m, if any, and forgets
// it. The caller holds the lock of m.
func signalChan[K comparable](m map[K]chan struct{}, key K) {
	if ch, ok := m[key]; ok {
		close(ch)
		delete(m, key)
	}
}

// pollChan returns the channel closed when a task is queued for agentID.
func (as *agentService) pollChan(agentID int64) chan struct{} {
	as.mu.Lock()
	defer as.mu.Unlock()
	return waitChan(as.polling, agentID)
}

// wakeAgent ends the long poll of agentID, if any.
func (as *agentService) wakeAgent(agentID int64) {
	as.mu.Lock()
	defer as.mu.Unlock()
	signalChan(as.polling, agentID)
}

// finishedChan returns the channel closed when taskID ends.
func (as *agentService) finishedChan(taskID string) chan struct{} {
	as.mu.Lock()
	defer as.mu.Unlock()
	return waitChan(as.finished, taskID)
}

func (as *agentService) taskEnded(taskID string) {
	as.mu.Lock()
	defer as.mu.Unlock()
	signalChan(as.finished, taskID)
}

// agentTasks hands out an agent's pending tasks, holding the request open
// (up to ?wait=, at most MaxWait) until one is queued: a wake reaches an
// idle agent within moments, without it listening on any port.
func (s *Server) agentTasks(c *gin.Context) {
	auth := agentOf(c)
	wait := time.Duration(0)
	if w := c.Query("wait"); w != "" {
		d, err := time.ParseDuration(w)
		if err != nil || d < 0 {
			agentError(c, http.StatusBadRequest, "wait must be a duration such as 25s")
			return
		}
		wait = min(d, s.agents.opts.MaxWait)
	}
	// The server's WriteTimeout would cut a long poll; this request
	// extends its own deadline, by no more than it may wait.
	rc := http.NewResponseController(c.Writer)
	if err := rc.SetWriteDeadline(time.Now().Add(wait + 30*time.Second)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		s.log.Debug("extend write deadline", "err", err)
	}
	ctx := c.Request.Context()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		// Subscribe before claiming, so a task queued between the two
		// wakes this poll instead of waiting for the next.
		ch := s.agents.pollChan(auth.AgentID)
		tasks, err := s.deliverTasks(ctx, auth)
		if err != nil {
			s.log.Error("deliver agent tasks", "agent", auth.AgentID, "err", err)
			agentError(c, http.StatusInternalServerError, "internal error")
			return
		}
		if len(tasks) > 0 || wait == 0 {
			c.JSON(http.StatusOK, protocol.TaskList{Tasks: tasks})
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			c.JSON(http.StatusOK, protocol.TaskList{Tasks: []protocol.Task{}})
			return
		case <-ctx.Done():
			return
		}
	}
}

// taskPayload is what the store keeps of a task: the task without
// secrets, and the names of the SNMP credentials to reveal at delivery.
type taskPayload struct {
	Task        protocol.Task `json:"task"`
	Credentials []string      `json:"credentials,omitempty"`
}

// deliverTasks claims the agent's pending tasks and puts them in wire
// form, with SNMP credentials revealed: they exist in clear only in this
// answer, inside the TLS connection the agent verified.
func (s *Server) deliverTasks(ctx context.Context, auth inventory.AgentAuth) ([]protocol.Task, error) {
	claimed, err := s.store.ClaimAgentTasks(ctx, auth.AgentID, protocol.MaxTasksPerPoll)
	if err != nil {
		return nil, err
	}
	out := []protocol.Task{}
	for _, at := range claimed {
		var p taskPayload
		if err := json.Unmarshal([]byte(at.Payload), &p); err != nil {
			s.failTask(ctx, at, fmt.Sprintf("stored task unreadable: %v", err))
			continue
		}
		t := p.Task
		t.ID, t.Kind, t.Deadline = at.ID, protocol.TaskKind(at.Kind), at.Deadline
		if t.Kind == protocol.TaskScan && t.Scan != nil && len(p.Credentials) > 0 {
			creds, err := s.store.RevealCredentials(ctx, p.Credentials)
			if err != nil {
				s.failTask(ctx, at, fmt.Sprintf("SNMP credentials could not be revealed: %v", err))
				continue
			}
			for _, cr := range creds {
				t.Scan.SNMP.Credentials = append(t.Scan.SNMP.Credentials, protocol.WireCredential(cr))
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// failTask closes a task the server itself cannot go on with.
func (s *Server) failTask(ctx context.Context, at inventory.AgentTask, why string) {
	s.closeTask(ctx, at, inventory.TaskFailed, protocol.TaskResult{TaskID: at.ID, Final: true, Error: why, Finished: s.opts.Now()})
}

// closeTask ends a task with a final result the agent did not send
// (failed at delivery, expired): its scan run closes as failed and the
// election hears of it.
func (s *Server) closeTask(ctx context.Context, at inventory.AgentTask, status inventory.AgentTaskStatus, res protocol.TaskResult) {
	b, _ := json.Marshal(res)
	if _, err := s.store.FinishAgentTask(ctx, at.ID, status, res.Error, string(b)); err != nil {
		if !errors.Is(err, inventory.ErrConflict) {
			s.log.Error("close agent task", "task", at.ID, "err", err)
		}
		return
	}
	s.log.Warn("agent task ended without result", "task", at.ID, "agent", at.AgentID, "kind", at.Kind, "status", status, "why", res.Error)
	if at.ScanID != 0 {
		if _, err := s.store.FinishScan(ctx, at.ScanID, inventory.ScanEnd{Error: res.Error}); err != nil {
			s.log.Error("finish agent scan", "scan", at.ScanID, "err", err)
		}
	}
	if at.Kind == string(protocol.TaskScan) && at.SubnetID != 0 {
		if err := s.reportScanOutcome(ctx, at.AgentID, at.SubnetID, res.Error); err != nil {
			s.log.Warn("report scan outcome", "agent", at.AgentID, "subnet", at.SubnetID, "err", err)
		}
	}
	s.agents.taskEnded(at.ID)
}

func (s *Server) expireAgentTasks(ctx context.Context) {
	tasks, err := s.store.ExpiredAgentTasks(ctx, s.opts.Now())
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("expire agent tasks", "err", err)
		}
		return
	}
	for _, at := range tasks {
		why := "the agent sent no result before the task's deadline"
		if at.Status == inventory.TaskPending {
			why = "the agent did not fetch the task before its deadline"
		}
		s.closeTask(ctx, at, inventory.TaskExpired, protocol.TaskResult{TaskID: at.ID, Final: true, Error: why, Finished: s.opts.Now()})
	}
}

// agentResult stores one batch of a task's result. Batches are taken in
// order, each once: a batch already stored is acknowledged as a duplicate
// and stored nothing of; a batch ahead of the expected one is refused
// with 409, so the agent resends from the one the server names.
func (s *Server) agentResult(c *gin.Context) {
	auth := agentOf(c)
	ctx := c.Request.Context()
	id := c.Param("task")
	at, err := s.store.AgentTask(ctx, id)
	if err != nil || at.AgentID != auth.AgentID {
		if err != nil && !errors.Is(err, inventory.ErrNotFound) {
			s.log.Error("agent result", "task", id, "err", err)
			agentError(c, http.StatusInternalServerError, "internal error")
			return
		}
		agentError(c, http.StatusNotFound, "no such task for this agent")
		return
	}
	var r protocol.TaskResult
	if !decodeAgent(c, &r) {
		return
	}
	if r.TaskID != id {
		agentError(c, http.StatusBadRequest, fmt.Sprintf("result names task %q, uploaded to task %q", r.TaskID, id))
		return
	}
	if err := r.Validate(protocol.TaskKind(at.Kind)); err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, protocol.ErrTooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		agentError(c, status, err.Error())
		return
	}

	s.agents.upload.Lock()
	defer s.agents.upload.Unlock()
	at, err = s.store.AgentTask(ctx, id)
	if err != nil {
		s.log.Error("agent result", "task", id, "err", err)
		agentError(c, http.StatusInternalServerError, "internal error")
		return
	}
	switch {
	case !at.Status.Open() || r.Batch < at.NextBatch:
		c.JSON(http.StatusOK, protocol.ResultReply{TaskID: id, Batch: r.Batch, Duplicate: true})
		return
	case r.Batch > at.NextBatch:
		agentError(c, http.StatusConflict, fmt.Sprintf("batch %d is ahead: the server expects batch %d", r.Batch, at.NextBatch))
		return
	}
	recorded, err := s.storeBatch(ctx, at, r)
	if err != nil {
		if errors.Is(err, inventory.ErrInvalid) {
			agentError(c, http.StatusBadRequest, plainError(err))
			return
		}
		s.log.Error("store agent result", "task", id, "batch", r.Batch, "err", err)
		agentError(c, http.StatusInternalServerError, "internal error")
		return
	}
	c.JSON(http.StatusOK, protocol.ResultReply{TaskID: id, Batch: r.Batch, Recorded: recorded})
}

// storeBatch records one batch in order and, on the final one, closes
// the task and its scan run.
func (s *Server) storeBatch(ctx context.Context, at inventory.AgentTask, r protocol.TaskResult) (int, error) {
	// Devices first, in one transaction: if this fails, nothing of the
	// batch is kept and the agent's retry is not a duplicate.
	recorded := 0
	if at.ScanID != 0 {
		var devs []scan.Device
		switch {
		case r.Scan != nil:
			for _, d := range r.Scan.Devices {
				sd := d.Device
				sd.Evidence = d.Evidence
				devs = append(devs, sd)
			}
		case r.Listen != nil:
			for _, h := range r.Listen.Heard {
				if h.IP == "" {
					continue
				}
				by := "passive-" + h.By
				if h.By == "" {
					by = "passive-arp"
				}
				devs = append(devs, scan.Device{IP: h.IP, MAC: h.MAC, FoundBy: []string{by}, Hostnames: []string{}, Reasons: []string{}})
			}
		}
		if len(devs) > 0 {
			ids, err := s.store.RecordDevices(ctx, at.ScanID, devs)
			if err != nil {
				return 0, fmt.Errorf("record %d devices: %w", len(devs), err)
			}
			recorded = len(ids)
		}
	}
	if !r.Final {
		return recorded, s.store.AdvanceAgentTask(ctx, at.ID, r.Batch)
	}

	status := inventory.TaskDone
	if r.Error != "" {
		status = inventory.TaskFailed
	}
	var run inventory.ScanRun
	if at.ScanID != 0 {
		end := inventory.ScanEnd{Error: r.Error}
		if r.Scan != nil && r.Scan.Summary != nil {
			sum := r.Scan.Summary
			end.Stats, end.Warnings, end.Incomplete = inventory.StatsOf(sum.Stats), sum.Warnings, sum.Incomplete
		}
		if at.Kind == string(protocol.TaskListen) {
			// Listening is no sweep: nobody missed counts as missed.
			end.Incomplete = true
		}
		var err error
		if run, err = s.store.FinishScan(ctx, at.ScanID, end); err != nil {
			return recorded, fmt.Errorf("finish scan %d: %w", at.ScanID, err)
		}
	}
	// Keep the result without its devices: they are in the inventory.
	kept := r
	if kept.Scan != nil {
		kept.Scan = &protocol.ScanResult{Devices: []protocol.Device{}, Summary: r.Scan.Summary}
	}
	if kept.Listen != nil {
		kept.Listen = &protocol.ListenResult{Heard: []protocol.Heard{}}
	}
	b, _ := json.Marshal(kept)
	if _, err := s.store.FinishAgentTask(ctx, at.ID, status, r.Error, string(b)); err != nil {
		return recorded, err
	}
	if at.Kind == string(protocol.TaskScan) && at.SubnetID != 0 {
		failure := r.Error
		if failure == "" && run.Stats.Recorded == 0 {
			failure = "scan produced nothing"
		}
		if err := s.reportScanOutcome(ctx, at.AgentID, at.SubnetID, failure); err != nil {
			s.log.Warn("report scan outcome", "agent", at.AgentID, "subnet", at.SubnetID, "err", err)
		}
		if failure == "" && s.agents.opts.ListenBetweenSweeps > 0 {
			s.queueListen(ctx, at)
		}
	}
	s.log.Info("agent task finished", "task", at.ID, "agent", at.AgentID, "kind", at.Kind, "status", status,
		"scan", at.ScanID, "recorded", run.Stats.Recorded, "err", r.Error)
	s.agents.taskEnded(at.ID)
	return recorded, nil
}

// queueListen follows a finished scan with a passive listen on the same
// agent, so MACs that appear between sweeps are reported as they come.
func (s *Server) queueListen(ctx context.Context, scanTask inventory.AgentTask) {
	sn, err := s.store.Subnet(ctx, scanTask.SubnetID)
	if err != nil {
		return
	}
	a, err := s.store.Agent(ctx, scanTask.AgentID)
	if err != nil {
		return
	}
	d := s.agents.opts.ListenBetweenSweeps
	run, err := s.store.BeginScan(ctx, sn.ID, inventory.Scanner{Kind: inventory.ScannerAgent, ID: a.UID}, "passive")
	if err != nil {
		s.log.Warn("queue listen task", "subnet", sn.CIDR, "err", err)
		return
	}
	t := protocol.Task{Kind: protocol.TaskListen, Deadline: s.opts.Now().Add(d + 2*time.Minute),
		Listen: &protocol.ListenTask{SubnetID: sn.ID, Subnet: sn.CIDR, DurationMS: d.Milliseconds()}}
	if _, err := s.queueTask(ctx, a.ID, sn.ID, run.ID, t, nil); err != nil {
		s.log.Warn("queue listen task", "subnet", sn.CIDR, "err", err)
		if _, err := s.store.FinishScan(ctx, run.ID, inventory.ScanEnd{Error: err.Error()}); err != nil {
			s.log.Error("finish listen run", "scan", run.ID, "err", err)
		}
	}
}

// ---- the task API other features build on ----

// queueTask stores t for an agent and wakes the agent's long poll.
func (s *Server) queueTask(ctx context.Context, agentID, subnetID, scanID int64, t protocol.Task, creds []string) (string, error) {
	p := taskPayload{Task: t, Credentials: creds}
	p.Task.ID, p.Task.Deadline = "", time.Time{}
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("encode task: %w", err)
	}
	at, err := s.store.CreateAgentTask(ctx, inventory.AgentTask{ID: t.ID, AgentID: agentID, Kind: string(t.Kind),
		SubnetID: subnetID, ScanID: scanID, Payload: string(b), Deadline: t.Deadline})
	if err != nil {
		return "", err
	}
	s.agents.wakeAgent(agentID)
	return at.ID, nil
}

// enqueueAgentTask queues t for an agent and returns its task id; the
// agent receives it on its next (long) poll. A task without a deadline
// gets WakeTimeout; a revoked or unknown agent is refused.
func (s *Server) enqueueAgentTask(ctx context.Context, agentID int64, t protocol.Task) (string, error) {
	a, err := s.store.Agent(ctx, agentID)
	if err != nil {
		return "", err
	}
	if a.Revoked {
		return "", fmt.Errorf("agent %s: %w", a.UID, inventory.ErrRevoked)
	}
	switch t.Kind {
	case protocol.TaskWake:
		if t.Wake == nil {
			return "", fmt.Errorf("%w: wake task without wake part", inventory.ErrInvalid)
		}
	case protocol.TaskScan, protocol.TaskListen:
		// Scans go through scanViaAgents, which opens their runs.
		return "", fmt.Errorf("%w: queue %s tasks through the scan dispatch", inventory.ErrInvalid, t.Kind)
	default:
		return "", fmt.Errorf("%w: task kind %q", inventory.ErrInvalid, t.Kind)
	}
	if t.Deadline.IsZero() {
		t.Deadline = s.opts.Now().Add(s.agents.opts.WakeTimeout)
	}
	return s.queueTask(ctx, agentID, 0, 0, t, nil)
}

// awaitAgentTask waits for a task's result until ctx ends. A task the
// agent never answered ends with an expired result (Error says so) at its
// deadline.
func (s *Server) awaitAgentTask(ctx context.Context, taskID string) (protocol.TaskResult, error) {
	for {
		ch := s.agents.finishedChan(taskID)
		at, err := s.store.AgentTask(ctx, taskID)
		if err != nil {
			return protocol.TaskResult{}, err
		}
		if !at.Status.Open() {
			var r protocol.TaskResult
			if at.Result != "" {
				if err := json.Unmarshal([]byte(at.Result), &r); err != nil {
					return protocol.TaskResult{}, fmt.Errorf("task %s: stored result: %w", taskID, err)
				}
			}
			r.TaskID, r.Final = taskID, true
			if r.Error == "" {
				r.Error = at.Error
			}
			if r.Finished.IsZero() {
				r.Finished = at.Finished
			}
			return r, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return protocol.TaskResult{}, fmt.Errorf("wait for task %s: %w", taskID, ctx.Err())
		}
	}
}

// scanViaAgents queues a scan of sn for its elected agents, when it has
// any, and reports whether it did. Each elected agent gets its own task
// and scan run (recorded as by that agent); the first run is returned. A
// subnet with a scan task still open is not queued again: errScanRunning.
func (s *Server) scanViaAgents(ctx context.Context, sn inventory.Subnet) (dispatched, bool, error) {
	ids, err := s.electedAgents(ctx, sn.ID)
	if err != nil {
		return dispatched{}, false, fmt.Errorf("elected agents of %s: %w", sn.CIDR, err)
	}
	var agents []inventory.Agent
	for _, id := range ids {
		a, err := s.store.Agent(ctx, id)
		if err != nil || a.Revoked || a.Kind != inventory.AgentLanscout {
			continue
		}
		agents = append(agents, a)
	}
	if len(agents) == 0 {
		return dispatched{}, false, nil
	}
	s.agents.dispatch.Lock()
	defer s.agents.dispatch.Unlock()
	if at, open, err := s.openScanTask(ctx, sn.ID); err != nil {
		return dispatched{}, false, err
	} else if open {
		return dispatched{}, true, fmt.Errorf("%w (agent task %s, %s)", errScanRunning, at.ID, at.Status)
	}
	var d dispatched
	for _, a := range agents {
		by := inventory.Scanner{Kind: inventory.ScannerAgent, ID: a.UID}
		run, err := s.store.BeginScan(ctx, sn.ID, by, sn.Method)
		if err != nil {
			return d, len(d.Tasks) > 0, err
		}
		t := protocol.Task{Kind: protocol.TaskScan, Deadline: s.opts.Now().Add(s.agents.opts.ScanTimeout),
			Scan: &protocol.ScanTask{SubnetID: sn.ID, Subnet: sn.CIDR, Method: sn.Method, Rate: s.agents.opts.ScanRate,
				Retries: taskRetries(s.agents.opts.ScanRetries), TCPPorts: s.agents.opts.TCPPorts,
				SNMP: protocol.SNMP{Port: s.agents.opts.SNMPPort, TimeoutMS: s.agents.opts.SNMPTimeout.Milliseconds(),
					Retries: s.agents.opts.SNMPRetries}}}
		id, err := s.queueTask(ctx, a.ID, sn.ID, run.ID, t, sn.Credentials)
		if err != nil {
			if _, ferr := s.store.FinishScan(ctx, run.ID, inventory.ScanEnd{Error: "queueing the agent task: " + err.Error()}); ferr != nil {
				s.log.Error("finish scan", "scan", run.ID, "err", ferr)
			}
			return d, len(d.Tasks) > 0, err
		}
		s.log.Info("scan queued for agent", "subnet", sn.CIDR, "agent", a.UID, "host", a.Hostname, "task", id, "scan", run.ID)
		if len(d.Tasks) == 0 {
			d.Scanner, d.Run = by, run
		}
		d.Tasks = append(d.Tasks, id)
	}
	return d, true, nil
}
