package inventory

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Options tune OpenSQLite. The zero value is usable.
type Options struct {
	File    string       // database file in the data directory; default "lanscout.db"
	KeyFile string       // credential key file in the data directory; default "credentials.key"
	Readers int          // reader connections; default 4
	Logger  *slog.Logger // default: discard
	// Now is the clock; tests set it. Default time.Now.
	Now func() time.Time

	// migrateTo stops migrations at a version (tests of upgrades).
	migrateTo int
}

// SQLite is the Store on a SQLite file.
//
// It holds two pools on one file: a single writer connection, so writes
// queue in Go instead of failing with SQLITE_BUSY, and a pool of query-only
// readers, which WAL lets run beside the writer. Write transactions begin
// IMMEDIATE so that another process (`lanscout user add` while the server
// runs) waits on busy_timeout at BEGIN rather than failing at its first write.
type SQLite struct {
	w    *sql.DB
	r    *sql.DB
	seal *sealer
	log  *slog.Logger
	now  func() time.Time
	path string

	// stmts holds the ingest path's statements, prepared once on the
	// writer connection: parsing SQL was over half the cost of recording
	// a device.
	stmts map[string]*sql.Stmt

	dummyOnce sync.Once
	dummyHash []byte
}

var _ Store = (*SQLite)(nil)

// OpenSQLite opens (creating when needed) the inventory in dataDir, applies
// pending migrations, and marks scans left running by a crash as
// interrupted.
func OpenSQLite(ctx context.Context, dataDir string, opt Options) (*SQLite, error) {
	if opt.File == "" {
		opt.File = "lanscout.db"
	}
	if opt.KeyFile == "" {
		opt.KeyFile = "credentials.key"
	}
	if opt.Readers <= 0 {
		opt.Readers = 4
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	seal, err := loadOrCreateKey(filepath.Join(dataDir, opt.KeyFile), opt.Logger)
	if err != nil {
		return nil, err
	}
	s := &SQLite{seal: seal, log: opt.Logger, now: opt.Now, path: filepath.Join(dataDir, opt.File)}
	// Create the file 0600 before SQLite does: its -wal and -shm files take
	// the database file's mode, and they hold the same rows.
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", s.path, err)
	}
	f.Close()
	if err := os.Chmod(s.path, 0o600); err != nil {
		s.log.Warn("restrict database file mode", "path", s.path, "err", err)
	}

	// synchronous=NORMAL in WAL mode: a commit survives the process being
	// killed (the WAL is in the OS's hands); only a power cut can lose the
	// last commits, never corrupt the file. FULL would fsync every device
	// of a scan.
	common := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
	//
	// Checkpoints every 10,000 pages (40 MB of WAL) rather than SQLite's
	// 1,000: a streamed scan commits ~20 pages per device, and the default
	// put a checkpoint with two fsyncs every ~50 devices, nearly halving
	// ingest. journal_size_limit gives the disk back after a checkpoint.
	s.w, err = sql.Open("sqlite", "file:"+url.PathEscape(s.path)+"?"+common+
		"&_pragma=journal_mode(WAL)&_pragma=wal_autocheckpoint(10000)&_pragma=journal_size_limit(67108864)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", s.path, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	if err := s.w.PingContext(ctx); err != nil {
		s.w.Close()
		return nil, fmt.Errorf("open %s: %w", s.path, err)
	}
	ms, err := loadMigrations(sqliteMigrations, "migrations/sqlite")
	if err != nil {
		s.w.Close()
		return nil, err
	}
	from, to, err := migrate(ctx, s.w, ms, opt.migrateTo, s.now())
	if err != nil {
		s.w.Close()
		return nil, fmt.Errorf("migrate %s: %w", s.path, err)
	}
	if from != to {
		s.log.Info("migrated inventory schema", "path", s.path, "from", from, "to", to)
	}
	s.stmts = map[string]*sql.Stmt{}
	// A store held at an old version (upgrade tests) has not the columns
	// these statements name; it runs them unprepared.
	for _, q := range hotQueries {
		if opt.migrateTo != 0 {
			break
		}
		st, err := s.w.PrepareContext(ctx, q)
		if err != nil {
			s.w.Close()
			return nil, fmt.Errorf("prepare %.40q...: %w", q, err)
		}
		s.stmts[q] = st
	}
	s.r, err = sql.Open("sqlite", "file:"+url.PathEscape(s.path)+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		s.w.Close()
		return nil, fmt.Errorf("open readers on %s: %w", s.path, err)
	}
	s.r.SetMaxOpenConns(opt.Readers)
	s.r.SetMaxIdleConns(opt.Readers)

	if opt.migrateTo == 0 {
		if n, err := s.interruptRunningScans(ctx); err != nil {
			s.Close()
			return nil, err
		} else if n > 0 {
			s.log.Warn("scans were interrupted by a stop; their devices are kept", "scans", n)
		}
	}
	return s, nil
}

// Close closes both pools.
func (s *SQLite) Close() error {
	var errR error
	if s.r != nil {
		errR = s.r.Close()
	}
	for _, st := range s.stmts {
		st.Close()
	}
	return errors.Join(errR, s.w.Close())
}

// Path is the database file.
func (s *SQLite) Path() string { return s.path }

// wtx is a write transaction that runs the statements prepared at open
// through their prepared form and any other SQL as given.
type wtx struct {
	*sql.Tx
	stmts map[string]*sql.Stmt
}

func (t wtx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st, ok := t.stmts[q]; ok {
		return t.Tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, q, args...)
}

func (t wtx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st, ok := t.stmts[q]; ok {
		return t.Tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, q, args...)
}

func (t wtx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st, ok := t.stmts[q]; ok {
		return t.Tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, q, args...)
}

// write runs fn in a write transaction.
func (s *SQLite) write(ctx context.Context, fn func(tx wtx) error) error {
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := wtx{Tx: sqlTx, stmts: s.stmts}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (s *SQLite) interruptRunningScans(ctx context.Context) (int64, error) {
	// A run an agent carries out goes on while the server restarts: the
	// agent uploads to it afterwards, and its task's deadline closes it if
	// it never does. Only runs this process was doing are over.
	res, err := s.w.ExecContext(ctx, `UPDATE scans SET status = ?, finished_at = ?, error = ? WHERE status = ?
		AND id NOT IN (SELECT scan_id FROM agent_tasks WHERE status IN ('pending', 'delivered') AND scan_id IS NOT NULL)`,
		ScanInterrupted, s.now().UnixMilli(), "lanscout stopped while the scan ran", ScanRunning)
	if err != nil {
		return 0, fmt.Errorf("mark interrupted scans: %w", err)
	}
	return res.RowsAffected()
}

// dummyPasswordHash is compared against when a user does not exist, so
// that Authenticate takes as long as for a real user.
func (s *SQLite) dummyPasswordHash() []byte {
	s.dummyOnce.Do(func() {
		s.dummyHash, _ = bcrypt.GenerateFromPassword([]byte("lanscout-no-such-user"), bcryptCost)
	})
	return s.dummyHash
}

// Value helpers shared by the SQLite code. They encode the portable column
// conventions (Unix milliseconds, JSON text, ip_key) described in the first
// migration.

func msOf(t time.Time) int64 { return t.UnixMilli() }

func timeOf(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func nullTime(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return timeOf(n.Int64)
}

func nullMS(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

func toJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own slices and structs are encoded here.
		panic(fmt.Sprintf("inventory: encode %T: %v", v, err))
	}
	return string(b)
}

func stringsOf(s string) []string {
	out := []string{}
	if s != "" {
		_ = json.Unmarshal([]byte(s), &out)
	}
	return out
}

// ipKey is the address in 16-byte form as hex, so that text order is
// address order and IPv4 sorts before IPv6.
func ipKey(a netip.Addr) string {
	b := a.As16()
	return hex.EncodeToString(b[:])
}

// normMAC returns a MAC in lower-case colon form, "" for none and for
// addresses that identify nothing (all zeros, broadcast).
func normMAC(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	hw, err := net.ParseMAC(s)
	if err != nil || len(hw) != 6 {
		return ""
	}
	switch hw.String() {
	case "00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff":
		return ""
	}
	return hw.String()
}

// hostKey reduces a host name to what the fallback match compares: its
// first label, lower case. OCS agents send "-" for no name; addresses and
// localhost name nothing.
func hostKey(name string) string {
	name = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(name), "."))
	if name == "" || name == "-" || name == "localhost" {
		return ""
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return ""
	}
	if i := strings.IndexByte(name, '.'); i > 0 {
		name = name[:i]
	}
	return name
}

// usableSerial filters placeholder serials that would link unrelated
// machines ("0", "To be filled by O.E.M.", "Default string", ...).
func usableSerial(s string) string {
	s = strings.TrimSpace(s)
	if len(s) < 4 {
		return ""
	}
	switch strings.ToLower(s) {
	case "to be filled by o.e.m.", "default string", "system serial number", "none", "not specified",
		"0123456789", "123456789", "00000000", "chassis serial number", "n/a", "unknown":
		return ""
	}
	return s
}

func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}
