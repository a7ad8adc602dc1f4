// Package snmp asks devices what they are. It owns SNMP v1/v2c/v3 sessions
// (through gosnmp), credential lists and the memory of which credential
// worked, bounded walks, the evidence plan gathered from every responder, and
// the snmprec recording format shared with snmpsim.
//
// Everything that reads SNMP data goes through Source, so the same evidence
// code runs against a live agent and against a recording. It must not know
// how hosts were found, how devices are typed, or where results are stored.
//
// # Live sessions
//
// Dial opens a Session, the live Source: one gosnmp connection per agent,
// never shared between goroutines. Walks use GETNEXT for v1 and GETBULK
// with one OID per request for v2c/v3, starting at max-repetitions 10 and
// halving (10, 5, 2, 1) on tooBig or a timeout, remembered for the rest of
// the session; they never ask more than 64 (snmpsim 0.4.5 hangs beyond).
// Walks are capped by rows and by the context, survive agents whose OIDs go
// backwards, and end with an error on any error status rather than
// silently. Errors say what failed against whom; errors.Is tells
// ErrUnreachable (timeouts, closed ports: the agent is not there) from
// ErrAuthFailed (a v3 agent rejected the credential).
//
// # Probing
//
// A Prober finds the first working credential of a list for an address and
// gathers a Plan with it; see Prober.Probe for what it costs when the
// address has no agent. Wrong v3 pass phrases fail within one round trip
// (unknown user, wrong digest) or one timeout plus one round trip (wrong
// privacy pass phrase, which agents ignore without a reply), never hang.
// A Memory (MemoryFile for the CLI) remembers which credential worked where,
// by name: no secret is ever written there.
//
// # Credentials
//
// Communities and pass phrases are Secret values, printed as "<secret>" by
// fmt, encoding/json, YAML and slog; parsing and validation errors never
// quote them. On the command line:
//
//	--community public                        v2c (v1:public for v1)
//	--snmp-v3 user                            noAuthNoPriv
//	--snmp-v3 user:SHA-256:authpass           authNoPriv
//	--snmp-v3 user:SHA:authpass:AES:privpass  authPriv
//	--snmp-v3 user:SHA:authpass:AES:privpass@context
//
// Auth protocols: MD5, SHA, SHA-224, SHA-256, SHA-384, SHA-512. Privacy:
// DES, AES, AES-192, AES-256, and AES-192C, AES-256C (Cisco/Reeder key
// extension). A ':', '@' or '\' inside a field is escaped with '\'. The
// optional @context selects a v3 context name (some printers and
// multi-instance switches answer only within one).
//
// A credentials file (LoadCredentials) is YAML; unknown keys are errors with
// their line numbers, and unnamed credentials are named v2c-1, v3-1, ...:
//
//	credentials:
//	  - community: public           # version 2c unless given
//	  - name: legacy
//	    version: 1
//	    community: private
//	  - name: core
//	    version: 3                  # implied by user
//	    user: monitor
//	    auth: SHA-256
//	    auth_password: "long pass phrase"
//	    priv: AES
//	    priv_password: "another one"
//	    context: ""                 # optional
package snmp
