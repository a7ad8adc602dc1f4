// Package web serves the appliance's UI and REST API. Only programs import
// it: cmd (through internal/cli, which wires it to the process) and the
// benchmark, which measures the real API; the engine packages (discover,
// snmp, typing, scan) and the store (inventory) never do.
//
// # Layers
//
// [Server.Handler] is, from the outside in: security headers and request
// body limits on every response; Go's [http.CrossOriginProtection], which
// refuses state-changing requests a browser sends from another origin (so
// no GET changes anything, and forms need no token); then the gin router
// with its own slog request log and panic recovery.
//
// # Who is asking
//
// Pages use a server-side session (the token in an HttpOnly, Secure,
// SameSite=Lax cookie; the store keeps its hash and its expiry). The API
// under /api/v1 takes a bearer API token or the same session. Roles are
// the store's: viewers read, operators also scan, admins also manage
// subnets; a write below the role is refused with 403 before anything is
// read. Logins are rate limited per client address and per username, and
// every state change is written to the store's audit log.
//
// # Scans
//
// "Scan now" hands the subnet to a job runner the Server owns: the scan
// runs under the server's context, not the request's, one per subnet at a
// time, streaming devices into the store as the engine identifies them.
// [Server.Close] cancels running scans and waits for them to close their
// runs as incomplete. How a scan is configured is the caller's [ScanFunc].
//
// While a scan runs, the job runner publishes its progress (the sweep's
// and the SNMP probes', through the hooks [SweepProgress] and
// [SNMPProgress] find in the scan's context, and each device stored) to a
// feed that pages and API clients follow as server-sent events; runs of
// agents and satellites are followed from the store instead.
package web
