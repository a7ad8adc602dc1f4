package export

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lanscout/lanscout/typing"
)

// These tests feed the exports of hostile names to the real tools from
// Debian, which must accept them and see exactly the hosts written.

func tool(t *testing.T, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
		if _, err := os.Stat("/usr/sbin/" + n); err == nil {
			return "/usr/sbin/" + n
		}
	}
	t.Skipf("%s not installed (Debian package; make test installs it)", names[0])
	return ""
}

// templatesFor returns the Icinga 2 templates every category of hosts
// needs, under the names the options give.
func categoriesOf(hosts []Host) []typing.Category {
	seen := map[typing.Category]bool{}
	var out []typing.Category
	for _, h := range hosts {
		if !seen[h.Category] {
			seen[h.Category] = true
			out = append(out, h.Category)
		}
	}
	return out
}

func TestIcinga2AcceptsExport(t *testing.T) {
	bin := tool(t, "icinga2")
	hosts := hostileHosts()
	opts := testOptions()
	dir := t.TempDir()
	var hostsConf bytes.Buffer
	if err := WriteIcinga2(&hostsConf, hosts, opts.Icinga2); err != nil {
		t.Fatal(err)
	}
	var main strings.Builder
	main.WriteString("include <itl>\n")
	for _, c := range categoriesOf(hosts) {
		fmt.Fprintf(&main, "template Host %q { check_command = \"dummy\" }\n", opts.Icinga2.Template(c))
	}
	main.WriteString("include \"lanscout-hosts.conf\"\n")
	for name, body := range map[string][]byte{"icinga2.conf": []byte(main.String()), "lanscout-hosts.conf": hostsConf.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Its own paths and user, so the check needs nothing of the system's
	// set-up (it would otherwise drop to the nagios user).
	args := []string{"daemon", "-C", "-c", filepath.Join(dir, "icinga2.conf"),
		"-DRunAsUser=" + currentUser(), "-DRunAsGroup=" + currentGroup(), "-DConfigDir=" + dir}
	for _, c := range []string{"CacheDir", "LogDir", "DataDir", "SpoolDir", "InitRunDir"} {
		d := filepath.Join(dir, c)
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-D"+c+"="+d)
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("icinga2 daemon -C refused the export: %v\n%s\n--- export:\n%s", err, out, hostsConf.String())
	}
	// Exactly the hosts written: no injected object.
	m := regexp.MustCompile(`(\d+) Hosts?\.`).FindSubmatch(out)
	if m == nil || string(m[1]) != fmt.Sprint(len(hosts)) {
		t.Errorf("icinga2 counted %q hosts, want %d:\n%s", m, len(hosts), out)
	}
	t.Logf("icinga2 accepted %d hosts", len(hosts))
}

func TestNagiosAcceptsExport(t *testing.T) {
	bin := tool(t, "nagios4", "nagios")
	hosts := hostileHosts()
	opts := testOptions()
	dir := t.TempDir()
	// nagios4 reads its object files as the nagios user.
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var hostsCfg bytes.Buffer
	if err := WriteNagios(&hostsCfg, hosts, opts.Nagios); err != nil {
		t.Fatal(err)
	}
	var objects strings.Builder
	objects.WriteString(`define command {
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
  name                 lanscout-base
  register             0
  check_command        check_dummy
  max_check_attempts   3
  check_period         always
  notification_period  always
  contacts             admin
}
define host {
  use        lanscout-base
  host_name  test-anchor
  address    127.0.0.1
}
define service {
  host_name            test-anchor
  service_description  anchor
  check_command        check_dummy
  max_check_attempts   1
  check_interval       5
  retry_interval       1
  check_period         always
  notification_period  always
  contacts             admin
}
`)
	for _, c := range categoriesOf(hosts) {
		fmt.Fprintf(&objects, "define host {\n  name  %s\n  use   lanscout-base\n  register  0\n}\n", opts.Nagios.Template(c))
	}
	main := fmt.Sprintf("cfg_file=%s\ncfg_file=%s\nillegal_macro_output_chars=`~$&|'\"<>\n",
		filepath.Join(dir, "objects.cfg"), filepath.Join(dir, "lanscout-hosts.cfg"))
	for name, body := range map[string][]byte{"nagios.cfg": []byte(main), "objects.cfg": []byte(objects.String()),
		"lanscout-hosts.cfg": hostsCfg.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(bin, "-v", filepath.Join(dir, "nagios.cfg")).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("Total Errors:   0")) || !bytes.Contains(out, []byte("Total Warnings: 0")) {
		t.Fatalf("nagios4 -v refused the export: %v\n%s\n--- export:\n%s", err, out, hostsCfg.String())
	}
	// The anchor plus ours: no injected host.
	if want := fmt.Sprintf("Checked %d hosts.", len(hosts)+1); !bytes.Contains(out, []byte(want)) {
		t.Errorf("nagios did not say %q:\n%s", want, out)
	}
	if want := fmt.Sprintf("Checked %d host groups.", len(categoriesOf(hosts))); !bytes.Contains(out, []byte(want)) {
		t.Errorf("nagios did not say %q:\n%s", want, out)
	}
	t.Logf("nagios4 accepted %d hosts", len(hosts))
}

func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "root"
}

func currentGroup() string {
	out, err := exec.Command("id", "-gn").Output()
	if err != nil {
		return "root"
	}
	return strings.TrimSpace(string(out))
}
