package inventory

import (
	"context"
	"database/sql"
	"os"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/lanscout/lanscout/typing"
)

func schemaVersion(t *testing.T, db *sql.DB) int {
	t.Helper()
	var v int
	if err := db.QueryRow(`SELECT MAX(version) FROM schema_version`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func latestVersion(t *testing.T) int {
	t.Helper()
	ms, err := loadMigrations(sqliteMigrations, "migrations/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	return len(ms)
}

func TestMigrateEmpty(t *testing.T) {
	s, _, _ := openTest(t)
	if got, want := schemaVersion(t, s.w), latestVersion(t); got != want {
		t.Errorf("schema version = %d, want %d", got, want)
	}
	var ok string
	if err := s.r.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Errorf("integrity_check = %q, %v", ok, err)
	}
	var fk int
	if err := s.w.QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d, %v", fk, err)
	}
	var mode string
	if err := s.r.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v", mode, err)
	}
	if _, err := s.r.Exec(`DELETE FROM subnets`); err == nil {
		t.Error("the reader pool accepted a write")
	}
	// The database and its WAL hold password and token hashes: owner only.
	mustSubnet(t, s, "10.0.0.0/24")
	for _, f := range []string{s.Path(), s.Path() + "-wal", s.Path() + "-shm"} {
		if st, err := os.Stat(f); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want mode 0600", f, st.Mode(), err)
		}
	}
}

// TestMigrateFromPrevious builds the schema of every earlier version, fills
// it the way that version's code would, migrates to the latest and checks
// that the data survived and works with today's code.
func TestMigrateFromPrevious(t *testing.T) {
	ctx := context.Background()
	latest := latestVersion(t)
	for from := 1; from < latest; from++ {
		t.Run("from version "+strconv.Itoa(from), func(t *testing.T) {
			dir := t.TempDir()
			clk := newClock()
			old, err := OpenSQLite(ctx, dir, Options{Now: clk.Now, migrateTo: from})
			if err != nil {
				t.Fatal(err)
			}
			if v := schemaVersion(t, old.w); v != from {
				t.Fatalf("built version %d, want %d", v, from)
			}
			now := clk.Now().UnixMilli()
			mustExec(t, old.w, `INSERT INTO subnets (id, cidr, name, created_at, updated_at) VALUES (1, '10.30.0.0/24', 'old', ?, ?)`, now, now)
			mustExec(t, old.w, `INSERT INTO devices (id, subnet_id, ip, ip_key, mac, mac_hex, name, disc_name, hostnames,
				category, class_category, first_seen, last_seen) VALUES
				(1, 1, '10.30.0.5', ?, '02:00:00:00:1e:05', '0200000001e05', 'Build-Server.corp', 'Build-Server.corp',
				'["build-server.corp."]', 'server', 'server', ?, ?)`, ipKey(mustAddr("10.30.0.5")), now, now)
			mustExec(t, old.w, `INSERT INTO events (at, kind, subnet_id, device_id, message) VALUES (?, 'new_device', 1, 1, 'new device')`, now)
			if from >= 2 {
				// Code at version 2 sets the host key as it records.
				mustExec(t, old.w, `UPDATE devices SET host_key = 'build-server' WHERE id = 1`)
				mustExec(t, old.w, `INSERT INTO agents (id, uid, hostname, host_key, first_contact, last_contact) VALUES (7, 'u7', 'ws7', 'ws7', ?, ?)`, now, now)
			}
			if from >= 7 && from < 15 {
				// Code before version 15 wrote the default of the time
				// into satellites created without a wake command.
				for _, r := range [][2]string{{"dflt", "wakeonlan -i {broadcast} {macs}"},
					{"own", "wakeonlan -i {broadcast} -p 7 {macs}"}, {"lan", "lanscout wake --broadcast {broadcast} {macs}"}} {
					mustExec(t, old.w, `INSERT INTO satellites (name, address, username, key_file, wake_command, created_at, updated_at)
						VALUES (?, '10.30.0.9', 'wol', '/k', ?, ?, ?)`, r[0], r[1], now, now)
				}
			}
			if err := old.Close(); err != nil {
				t.Fatal(err)
			}

			s, err := OpenSQLite(ctx, dir, Options{Now: clk.Now})
			if err != nil {
				t.Fatalf("migrate from %d: %v", from, err)
			}
			defer s.Close()
			if v := schemaVersion(t, s.w); v != latest {
				t.Errorf("version after migration = %d, want %d", v, latest)
			}
			d := deviceByIP(t, s, "10.30.0.5")
			if d.Name != "Build-Server.corp" || d.Category != typing.Server || d.MAC != "02:00:00:00:1e:05" {
				t.Errorf("device after migration = %+v", d)
			}
			if evs, err := s.Events(ctx, EventQuery{DeviceID: d.ID}); err != nil || len(evs) != 1 {
				t.Errorf("events after migration = %+v, %v", evs, err)
			}
			// The old device is matched by host name to an agent machine
			// reported after the upgrade: its host key was backfilled.
			if _, err := s.RecordAgentInventory(ctx, agentInv("u-build", "build-server", "", nic("eth9", "02:00:00:00:99:99", NICWired))); err != nil {
				t.Fatal(err)
			}
			if d := deviceByIP(t, s, "10.30.0.5"); d.AgentID == 0 || d.Match != MatchHostname {
				t.Errorf("old device not linked after migration: %+v", d)
			}
			// And today's ingest works on the old rows.
			clk.Advance(time.Minute)
			run := scanOnce(t, s, clk, 1, dev("10.30.0.6", "02:00:00:00:1e:05", "build-server", "server"))
			if run.Stats.NewDevices != 0 {
				t.Errorf("old device seen again counted as new: %+v", run)
			}
			if _, err := s.CreateUser(ctx, "admin", "admin password", RoleAdmin); err != nil {
				t.Errorf("users after migration: %v", err)
			}
			if from >= 7 {
				// The satellite holding the old default now follows the
				// current one (""); commands someone chose are kept.
				for name, want := range map[string]string{"dflt": "",
					"own": "wakeonlan -i {broadcast} -p 7 {macs}", "lan": "lanscout wake --broadcast {broadcast} {macs}"} {
					if sat, err := s.SatelliteByName(ctx, name); err != nil || sat.WakeCommand != want {
						t.Errorf("satellite %s after migration: wake command %q, %v; want %q", name, sat.WakeCommand, err, want)
					}
				}
			}
		})
	}
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := OpenSQLite(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, s.w, `INSERT INTO schema_version (version, name, applied_at) VALUES (999, 'future', 0)`)
	s.Close()
	if _, err := OpenSQLite(ctx, dir, Options{}); err == nil || !strings.Contains(err.Error(), "upgrade lanscout") {
		t.Errorf("open a newer schema: err = %v", err)
	}
}

func TestLoadMigrationsChecksNumbering(t *testing.T) {
	cases := []struct {
		name  string
		files fstest.MapFS
		want  string
	}{
		{"gap", fstest.MapFS{"m/0001_a.sql": {}, "m/0003_c.sql": {}}, "want version 2"},
		{"duplicate", fstest.MapFS{"m/0001_a.sql": {}, "m/001_b.sql": {}}, "want version 2"},
		{"bad name", fstest.MapFS{"m/first.sql": {}}, "want NNNN_name.sql"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := loadMigrations(tc.files, "m"); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
