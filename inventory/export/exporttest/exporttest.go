// Package exporttest runs the real monitoring tools from Debian over
// exported configuration, for tests: `icinga2 daemon -C` and `nagios4 -v`
// with a minimal configuration of their own around the export, defining
// the templates it references. Each check skips, saying why, when the
// tool is not installed.
package exporttest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TB is the part of testing.TB the checks need.
type TB interface {
	Helper()
	Skipf(format string, args ...any)
	Fatalf(format string, args ...any)
	TempDir() string
}

var _ TB = (testing.TB)(nil)

func tool(t TB, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
		if _, err := os.Stat("/usr/sbin/" + n); err == nil {
			return "/usr/sbin/" + n
		}
	}
	t.Skipf("exporttest: %s not installed (Debian package; make test installs it)", names[0])
	return ""
}

func write(t TB, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatalf("exporttest: %v", err)
		}
	}
}

// Icinga2 checks hosts (an Icinga 2 export) with `icinga2 daemon -C`,
// defining each of templates as a Host template with the ITL's dummy
// check. It returns the number of Host objects icinga2 counted, and fails
// the test when the check fails.
func Icinga2(t TB, hosts []byte, templates []string) int {
	t.Helper()
	bin := tool(t, "icinga2")
	dir := t.TempDir()
	var main strings.Builder
	main.WriteString("include <itl>\n")
	for _, tpl := range templates {
		fmt.Fprintf(&main, "template Host %q { check_command = \"dummy\" }\n", tpl)
	}
	main.WriteString("include \"lanscout-hosts.conf\"\n")
	write(t, dir, map[string]string{"icinga2.conf": main.String(), "lanscout-hosts.conf": string(hosts)})
	// Its own paths, and the current user, so the check needs nothing of
	// the system's set-up (it would otherwise drop to the nagios user) and
	// writes nothing outside dir. ZonesDir too: icinga2 reads the zone
	// configuration of /etc/icinga2/zones.d otherwise.
	args := []string{"daemon", "-C", "-c", filepath.Join(dir, "icinga2.conf"),
		"-DRunAsUser=" + currentUser(), "-DRunAsGroup=" + currentGroup(), "-DConfigDir=" + dir}
	for _, c := range []string{"CacheDir", "LogDir", "DataDir", "SpoolDir", "InitRunDir", "ZonesDir"} {
		d := filepath.Join(dir, c)
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatalf("exporttest: %v", err)
		}
		args = append(args, "-D"+c+"="+d)
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("icinga2 daemon -C refused the export: %v\n%s\n--- export:\n%s", err, out, hosts)
	}
	m := regexp.MustCompile(`(\d+) Hosts?\.`).FindSubmatch(out)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

const nagiosObjects = `define command {
  command_name  check_dummy
  command_line  /bin/true
}
define timeperiod {
  timeperiod_name  always
  alias            always
  monday           00:00-24:00
}
define contact {
  contact_name                   admin
  host_notifications_enabled     0
  service_notifications_enabled  0
  host_notification_period       always
  service_notification_period    always
  host_notification_options      n
  service_notification_options   n
  host_notification_commands     check_dummy
  service_notification_commands  check_dummy
}
define host {
  name                 exporttest-base
  register             0
  check_command        check_dummy
  max_check_attempts   3
  check_period         always
  notification_period  always
  contacts             admin
}
define host {
  use        exporttest-base
  host_name  exporttest-anchor
  address    127.0.0.1
}
define service {
  host_name            exporttest-anchor
  service_description  anchor
  check_command        check_dummy
  max_check_attempts   1
  check_interval       5
  retry_interval       1
  check_period         always
  notification_period  always
  contacts             admin
}
`

// Nagios checks hosts (a Nagios export) with `nagios4 -v` and a minimal
// main configuration defining each of templates. It returns the numbers
// of hosts and host groups from the export that Nagios counted, and fails
// the test on any error or warning.
func Nagios(t TB, hosts []byte, templates []string) (nHosts, nGroups int) {
	t.Helper()
	bin := tool(t, "nagios4", "nagios")
	dir := t.TempDir()
	var objects strings.Builder
	objects.WriteString(nagiosObjects)
	for _, tpl := range templates {
		fmt.Fprintf(&objects, "define host {\n  name      %s\n  use       exporttest-base\n  register  0\n}\n", tpl)
	}
	write(t, dir, map[string]string{
		"nagios.cfg":         nagiosMain(t, dir),
		"objects.cfg":        objects.String(),
		"lanscout-hosts.cfg": string(hosts),
	})
	out, err := exec.Command(bin, "-v", filepath.Join(dir, "nagios.cfg")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Total Errors:   0") || !strings.Contains(string(out), "Total Warnings: 0") {
		t.Fatalf("nagios4 -v refused the export: %v\n%s\n--- export:\n%s", err, out, hosts)
	}
	count := func(re string) int {
		m := regexp.MustCompile(re).FindSubmatch(out)
		if m == nil {
			return 0
		}
		n, _ := strconv.Atoi(string(m[1]))
		return n
	}
	return count(`Checked (\d+) hosts\.`) - 1, count(`Checked (\d+) host groups\.`) // less the anchor
}

// nagiosMain is a main configuration that keeps nagios4 inside dir.
// Every path Nagios opens even when only verifying (the log and temp
// files, the check result spool) and every one it would open running is
// set under dir: left out, they default to the system's /var/lib/nagios4,
// whose permissions are then part of the test (the spool refused the
// nagios user on one machine) and which gains a nagios.log. Nagios runs
// as the current user rather than dropping to "nagios", so the test dir
// needs no permissions for others.
func nagiosMain(t TB, dir string) string {
	t.Helper()
	for _, d := range []string{"checkresults", "tmp", "archives"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatalf("exporttest: %v", err)
		}
	}
	var b strings.Builder
	for _, kv := range [][2]string{
		{"cfg_file", filepath.Join(dir, "objects.cfg")},
		{"cfg_file", filepath.Join(dir, "lanscout-hosts.cfg")},
		{"nagios_user", currentUser()},
		{"nagios_group", currentGroup()},
		{"illegal_macro_output_chars", "`~$&|'\"<>"},
		{"log_file", filepath.Join(dir, "nagios.log")},
		{"log_archive_path", filepath.Join(dir, "archives")},
		{"use_syslog", "0"},
		{"debug_file", filepath.Join(dir, "nagios.debug")},
		{"temp_path", filepath.Join(dir, "tmp")},
		{"temp_file", filepath.Join(dir, "nagios.tmp")},
		{"check_result_path", filepath.Join(dir, "checkresults")},
		{"lock_file", filepath.Join(dir, "nagios.pid")},
		{"status_file", filepath.Join(dir, "status.dat")},
		{"object_cache_file", filepath.Join(dir, "objects.cache")},
		{"precached_object_file", filepath.Join(dir, "objects.precache")},
		{"state_retention_file", filepath.Join(dir, "retention.dat")},
		{"command_file", filepath.Join(dir, "nagios.cmd")},
		{"query_socket", filepath.Join(dir, "nagios.qh")},
		{"check_for_updates", "0"},
	} {
		fmt.Fprintf(&b, "%s=%s\n", kv[0], kv[1])
	}
	return b.String()
}

func currentUser() string {
	out, err := exec.Command("id", "-un").Output()
	if err != nil {
		return "root"
	}
	return strings.TrimSpace(string(out))
}

func currentGroup() string {
	out, err := exec.Command("id", "-gn").Output()
	if err != nil {
		return "root"
	}
	return strings.TrimSpace(string(out))
}
