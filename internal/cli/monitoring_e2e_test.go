package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/lanscout/lanscout/internal/snmptest"
	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/inventory/export/exporttest"
	"github.com/lanscout/lanscout/snmp"
)

// snmpExporterConfig is a snmp.yml for Debian's snmp_exporter 0.21, which
// ships none and keeps the credentials inside each module. Numeric OIDs
// only: there are no MIB files to generate from. Two modules per
// credential, one for network gear (with the ifTable counters) and one
// with only sysUpTime, so the test sees lanscout choose per category and
// credential.
const snmpExporterConfig = `
if_mib_lab:
  version: 2
  auth:
    community: public
  walk:
    - 1.3.6.1.2.1.1.3
    - 1.3.6.1.2.1.2.2.1.10
    - 1.3.6.1.2.1.2.2.1.16
  metrics:
    - name: sysUpTime
      oid: 1.3.6.1.2.1.1.3
      type: gauge
      help: Time since the network management part of the system was last re-initialized.
    - name: ifInOctets
      oid: 1.3.6.1.2.1.2.2.1.10
      type: counter
      help: Octets received on the interface.
      indexes:
        - labelname: ifIndex
          type: gauge
    - name: ifOutOctets
      oid: 1.3.6.1.2.1.2.2.1.16
      type: counter
      help: Octets sent on the interface.
      indexes:
        - labelname: ifIndex
          type: gauge
uptime_lab:
  version: 2
  auth:
    community: public
  walk:
    - 1.3.6.1.2.1.1.3
  metrics:
    - name: sysUpTime
      oid: 1.3.6.1.2.1.1.3
      type: gauge
      help: Time since the network management part of the system was last re-initialized.
`

// TestMonitoringEndToEnd: lanscout discovers snmpsim devices on loopback
// through a real scan; a real Prometheus reads lanscout's HTTP service
// discovery over HTTPS with an API token and scrapes a real snmp_exporter
// 0.21, which polls those devices with the module lanscout chose for
// each category and credential. Every discovered device must show up in
// Prometheus with snmp_exporter's metrics and its lanscout category.
func TestMonitoringEndToEnd(t *testing.T) {
	promBin := lookTool(t, "prometheus")
	exporterBin := lookTool(t, "prometheus-snmp-exporter")
	files := []string{ // a switch, a printer, a PDU and an access point
		snmptest.CorpusFile(t, "ciscosb_sg350-10.snmprec"),
		snmptest.CorpusFile(t, "canonprinter_lbp.snmprec"),
		snmptest.CorpusFile(t, "fs-net-pdu.snmprec"),
		snmptest.CorpusFile(t, "ciscowap_iw9165dh.snmprec"),
	}
	sim := snmptest.StartSim(t, files, snmptest.SimOptions{})
	simPort := int(sim.Devices[0].Addr.Port())

	// The store is made before the server starts, with the credential
	// the scan uses and a token for Prometheus.
	dir := t.TempDir()
	ctx := context.Background()
	store, err := inventory.OpenSQLite(ctx, dir, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.PutCredential(ctx, snmp.Credential{Name: "lab", Version: snmp.V2c, Community: "public"}); err != nil {
		t.Fatal(err)
	}
	promToken, _, err := store.CreateAPIToken(ctx, "prometheus", inventory.RoleViewer, 0, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	adminToken, _, err := store.CreateAPIToken(ctx, "test", inventory.RoleAdmin, 0, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	store.Close()

	// 0.21 form: a module per category and credential; network gear gets
	// the ifTable module, everything else uptime only.
	cfgPath := filepath.Join(dir, "lanscout.yaml")
	writeFile(t, cfgPath, `export:
  prometheus:
    no_auth: true
    credential_modules:
      switch: {lab: if_mib_lab}
      router: {lab: if_mib_lab}
      wireless: {lab: if_mib_lab}
      "*": {lab: uptime_lab}
`)
	srv := startServer(t, dir, map[string]string{
		"LANSCOUT_ADMIN_PASSWORD": "admin password",
		"LANSCOUT_SNMP_PORT":      strconv.Itoa(simPort),
		"LANSCOUT_SNMP_TIMEOUT":   "500ms",
	}, "--config", cfgPath)
	call := func(method, path string, body, v any) int {
		t.Helper()
		return srv.apiCall(t, adminToken, method, path, body, v)
	}
	var sn struct{ ID int64 }
	if code := call("POST", "/api/v1/subnets", map[string]any{"cidr": sim.Prefix.String(), "method": "snmp",
		"credentials": []string{"lab"}, "site": "loopback lab"}, &sn); code != http.StatusCreated {
		t.Fatalf("create subnet: %d", code)
	}
	start := time.Now()
	run := srv.scanNow(t, adminToken, sn.ID, 90*time.Second)
	var list struct{ Items []inventory.Device }
	call("GET", fmt.Sprintf("/api/v1/devices?subnet=%d&limit=1000", sn.ID), nil, &list)
	discovered := map[string]inventory.Device{}
	for _, d := range list.Items {
		if d.SNMP != nil {
			discovered[net.JoinHostPort(d.IP, strconv.Itoa(simPort))] = d
		}
	}
	t.Logf("scan %s in %s: %d SNMP devices of %d served", run.Status, time.Since(start).Round(time.Millisecond), len(discovered), len(sim.Devices))
	if len(discovered) != len(sim.Devices) {
		t.Fatalf("discovered %d SNMP devices, want %d: %+v", len(discovered), len(sim.Devices), list.Items)
	}

	// The scanned devices through the real Icinga 2 and Nagios checks:
	// the corpus hides every sysName as "<private>", so all four names
	// collide and must be told apart.
	download := func(format string) []byte {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.url+"/api/v1/export/"+format+"?subnet="+sim.Prefix.String(), nil)
		req.Header.Set("Authorization", "Bearer "+promToken)
		resp, err := srv.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("export %s: %d %s", format, resp.StatusCode, b)
		}
		return b
	}
	var tpls []string
	for _, d := range discovered {
		if !slices.Contains(tpls, "lanscout-"+string(d.Category)) {
			tpls = append(tpls, "lanscout-"+string(d.Category))
		}
	}
	if n := exporttest.Icinga2(t, download("icinga2"), tpls); n != len(discovered) {
		t.Errorf("icinga2 counted %d hosts of the scan, want %d", n, len(discovered))
	}
	if n, g := exporttest.Nagios(t, download("nagios"), tpls); n != len(discovered) || g != len(tpls) {
		t.Errorf("nagios counted %d hosts and %d groups of the scan, want %d and %d", n, g, len(discovered), len(tpls))
	}

	// snmp_exporter 0.21 with the modules above.
	work := t.TempDir()
	exporterCfg := filepath.Join(work, "snmp.yml")
	writeFile(t, exporterCfg, snmpExporterConfig)
	exporterAddr := freeTCPAddr(t)
	startTool(t, exporterBin, "--config.file="+exporterCfg, "--web.listen-address="+exporterAddr)
	waitHTTP(t, "http://"+exporterAddr+"/", 30*time.Second)

	// Prometheus reads lanscout's HTTP SD over HTTPS, trusting lanscout's
	// own certificate, with the viewer token. Debian's Prometheus 2.42
	// sends the bare token in http_sd_configs unless the type is spelled
	// out (seen here: "Authorization: lst_..."), hence type: Bearer.
	tokenFile := filepath.Join(work, "lanscout.token")
	writeFile(t, tokenFile, promToken)
	sdURL := srv.url + "/api/v1/sd/prometheus?site=" + url.QueryEscape("loopback lab")
	// What Prometheus will read, asked first with its token.
	req, _ := http.NewRequest("GET", sdURL, nil)
	req.Header.Set("Authorization", "Bearer "+promToken)
	resp, err := srv.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	sdBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP SD with the viewer token: %d %s", resp.StatusCode, sdBody)
	}
	t.Logf("HTTP SD: %s", sdBody)
	promCfg := filepath.Join(work, "prometheus.yml")
	writeFile(t, promCfg, fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: snmp
    http_sd_configs:
      - url: %q
        refresh_interval: 2s
        authorization:
          type: Bearer
          credentials_file: %q
        tls_config:
          ca_file: %q
    metrics_path: /snmp
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: %q
`, sdURL, tokenFile, filepath.Join(dir, certFile), exporterAddr))
	promAddr := freeTCPAddr(t)
	prom := startTool(t, promBin, "--config.file="+promCfg, "--storage.tsdb.path="+filepath.Join(work, "tsdb"),
		"--web.listen-address="+promAddr)
	waitHTTP(t, "http://"+promAddr+"/-/ready", 60*time.Second)

	type series struct {
		Metric map[string]string `json:"metric"`
	}
	query := func(q string) []series {
		resp, err := http.Get("http://" + promAddr + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Status string
			Data   struct{ Result []series }
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Status != "success" {
			t.Fatalf("query %s: %v %s", q, err, out.Status)
		}
		return out.Data.Result
	}
	deadline := time.Now().Add(90 * time.Second)
	var uptime []series
	for {
		uptime = query(`sysUpTime{job="snmp"}`)
		if len(uptime) >= len(discovered) {
			break
		}
		if time.Now().After(deadline) {
			targets, _ := http.Get("http://" + promAddr + "/api/v1/targets")
			b := []byte{}
			if targets != nil {
				b, _ = io.ReadAll(targets.Body)
				targets.Body.Close()
			}
			t.Fatalf("Prometheus has sysUpTime for %d of %d devices after 90s; targets: %s\nprometheus: %s", len(uptime), len(discovered), b, prom.output())
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("Prometheus has snmp_exporter metrics for %d devices %s after the scan", len(uptime), time.Since(start).Round(time.Second))
	byInstance := map[string]map[string]string{}
	for _, s := range uptime {
		byInstance[s.Metric["instance"]] = s.Metric
	}
	for inst, d := range discovered {
		m, ok := byInstance[inst]
		if !ok {
			t.Errorf("%s (%s): no sysUpTime in Prometheus", inst, d.Category)
			continue
		}
		if m["lanscout_category"] != string(d.Category) || m["lanscout_subnet"] != sim.Prefix.String() ||
			m["lanscout_site"] != "loopback lab" || m["lanscout_sys_name"] != d.SNMP.SysName {
			t.Errorf("%s: labels %v, want category %s, subnet %s, sysName %q", inst, m, d.Category, sim.Prefix, d.SNMP.SysName)
		}
	}
	// Network gear was polled with the ifTable module, the rest with
	// uptime only: the module was chosen per category and credential.
	withIf := map[string]bool{}
	for _, s := range query(`count by (instance, lanscout_category) (ifInOctets{job="snmp"})`) {
		withIf[s.Metric["instance"]] = true
	}
	for inst, d := range discovered {
		net := d.Category == "switch" || d.Category == "router" || d.Category == "wireless"
		if withIf[inst] != net {
			t.Errorf("%s (%s): ifInOctets present %t, want %t", inst, d.Category, withIf[inst], net)
		}
	}
	if up := query(`min(up{job="snmp"})`); len(up) != 1 {
		t.Errorf("up: %v", up)
	}
}

func lookTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (Debian package; make test installs it)", name)
	}
	return p
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func freeTCPAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// tool is a child process of the test, stopped by its PID at cleanup.
type tool struct {
	cmd *exec.Cmd
	out *syncBuffer
}

func (p *tool) output() string { return p.out.String() }

func startTool(t *testing.T, bin string, args ...string) *tool {
	t.Helper()
	out := &syncBuffer{}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	return &tool{cmd: cmd, out: out}
}

func waitHTTP(t *testing.T, u string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer in %s: %v", u, limit, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
