// Package inventory owns lanscout's model and its storage: subnets and their
// scan policy, devices and every sighting of their addresses, MACs and names,
// SNMP facts and the classification with its reasons, agent machines and
// their own inventories (and the merge of both), scan runs, events, the audit
// log, users with their roles, sessions and API tokens, and SNMP credentials
// encrypted at rest.
//
// Callers work through the [Store] interface; [OpenSQLite] is the
// implementation shipped in the appliance. The interface is kept to plain
// types and portable SQL so that a PostgreSQL implementation can follow
// without touching callers.
//
// # What it must not know
//
// HTTP, sessions cookies, the web UI and how scans are run are not its
// business. It ingests the engine's results (a [scan.Device] at a time, or a
// whole [scan.Report]) but the engine packages (discover, snmp, typing, scan)
// never import it.
//
// # Ingest and durability
//
// A scan is streamed: [ScanStore.BeginScan], then [ScanStore.RecordDevice]
// for each device as the engine identifies it, each committed in its own
// transaction, then [ScanStore.FinishScan]. A process killed mid-scan keeps
// every device already recorded; the next open marks the run interrupted,
// and an interrupted or incomplete run never counts as a missed scan for the
// devices it did not see.
//
// # Schema
//
// The SQL lives in migrations/sqlite, numbered files applied in order at
// open (see migrate.go): subnets; scans (runs with statistics); devices,
// keyed by (subnet, MAC) where a MAC is known and by (subnet, address)
// otherwise, holding the effective values the UI lists (category, name,
// vendor, status) beside the classification and the admin's identification;
// device_snmp (system group and the raw evidence); sightings (kind, value,
// scanner, first/last seen, count); events; agents, agent_nics and
// agent_addresses (each address attached to the subnet holding it);
// users, sessions, api_tokens, audit_log (append-only by trigger) and
// snmp_credentials. Times are Unix milliseconds, lists JSON text, and
// addresses sort through a fixed-width hex key, so the SQL carries over to
// PostgreSQL with types renamed.
//
// # Secrets
//
// Passwords are bcrypt hashes; session and API tokens are stored as SHA-256
// hashes and shown once; SNMP credentials are sealed with AES-256-GCM under a
// key file in the data directory. The only method that returns SNMP secrets
// in clear is [CredentialStore.RevealCredentials], meant for the code that
// hands credentials to a scanner; everything else sees [Credential], which
// carries no secret.
package inventory
