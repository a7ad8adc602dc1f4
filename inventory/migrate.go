package inventory

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Migrations are numbered SQL files, one directory per dialect, applied in
// order at start. A file that has shipped is never edited: databases in the
// field have run it. Changes go in a new file (0004_search.sql shows how,
// backfill included), and TestMigrateFromPrevious runs every older version
// up to the latest.
//
// An in-house migrator rather than goose: it is ~80 lines, up-only (an
// appliance never migrates down; it restores a backup), and it keeps goose's
// own modernc.org/libc requirement out of the module graph, where it would
// have to agree with the sqlite driver's exact libc pin (LIBRARIES.md).
//
//go:embed migrations/sqlite/*.sql
var sqliteMigrations embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads dir of fsys: files named NNNN_name.sql, numbered from
// 1 without gaps, so a missing or duplicated file fails at start rather
// than leaving a database half-built.
func loadMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration file %s: want NNNN_name.sql", e.Name())
		}
		body, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, migration{version: v, name: name, sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migrations: want version %d, found %d (%s)", i+1, m.version, m.name)
		}
	}
	return ms, nil
}

// migrate applies the migrations above the database's version, up to
// target (0: all), each in its own transaction with its version row, so a
// crash leaves the database at a whole version. It refuses a database newer
// than this binary: running old code on a new schema corrupts quietly.
func migrate(ctx context.Context, db *sql.DB, ms []migration, target int, now time.Time) (from, to int, err error) {
	if target == 0 {
		target = len(ms)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL)`); err != nil {
		return 0, 0, fmt.Errorf("create schema_version: %w", err)
	}
	var cur sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_version`).Scan(&cur); err != nil {
		return 0, 0, fmt.Errorf("read schema version: %w", err)
	}
	from = int(cur.Int64)
	if from > len(ms) {
		return from, from, fmt.Errorf("database schema is version %d, this lanscout knows up to %d: upgrade lanscout", from, len(ms))
	}
	for _, m := range ms[from:target] {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return from, m.version - 1, fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			tx.Rollback()
			return from, m.version - 1, fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)`,
			m.version, m.name, now.UnixMilli()); err != nil {
			tx.Rollback()
			return from, m.version - 1, fmt.Errorf("migration %d (%s): record version: %w", m.version, m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return from, m.version - 1, fmt.Errorf("migration %d (%s): commit: %w", m.version, m.name, err)
		}
	}
	return from, max(from, target), nil
}
