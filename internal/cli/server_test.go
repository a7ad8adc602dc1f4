package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"github.com/lanscout/lanscout/internal/tcptest"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/web"
)

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestServerConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "lanscout.yaml")
	os.WriteFile(file, []byte(`listen: "127.0.0.1:9001"
data: /from/file
session_ttl: 2h
log_level: debug
trusted_proxies: [10.0.0.1]
snmp:
  port: 1161
  timeout: 3s
`), 0o600)

	cases := []struct {
		name string
		args []string
		env  map[string]string
		want func(c serverConfig) string // "" when right
	}{
		{"defaults", nil, nil, func(c serverConfig) string {
			if c.Listen != ":8443" || c.Data != "./data" || c.SessionTTL != duration(12*time.Hour) || c.SNMP.Port != 161 {
				return fmt.Sprintf("%+v", c)
			}
			return ""
		}},
		{"file", []string{"--config", file}, nil, func(c serverConfig) string {
			if c.Listen != "127.0.0.1:9001" || c.Data != "/from/file" || c.SessionTTL != duration(2*time.Hour) ||
				c.LogLevel != "debug" || !slices.Equal(c.TrustedProxies, []string{"10.0.0.1"}) || c.SNMP.Port != 1161 ||
				c.SNMP.Timeout != duration(3*time.Second) || c.SNMP.Retries != 1 {
				return fmt.Sprintf("%+v", c)
			}
			return ""
		}},
		{"env over file", []string{"--config", file}, map[string]string{"LANSCOUT_DATA": "/from/env", "LANSCOUT_SNMP_PORT": "2161",
			"LANSCOUT_TCP_PORTS": "22,8080"}, func(c serverConfig) string {
			if c.Data != "/from/env" || c.Listen != "127.0.0.1:9001" || c.SNMP.Port != 2161 || !slices.Equal(c.TCPPorts, []uint16{22, 8080}) {
				return fmt.Sprintf("%+v", c)
			}
			return ""
		}},
		{"flags over env over file", []string{"--config", file, "--data", "/from/flag", "--session-ttl", "30m"},
			map[string]string{"LANSCOUT_DATA": "/from/env", "LANSCOUT_SESSION_TTL": "1h", "LANSCOUT_LISTEN": ":7000"}, func(c serverConfig) string {
				if c.Data != "/from/flag" || c.SessionTTL != duration(30*time.Minute) || c.Listen != ":7000" {
					return fmt.Sprintf("%+v", c)
				}
				return ""
			}},
		{"config file from the environment", nil, map[string]string{"LANSCOUT_CONFIG": file}, func(c serverConfig) string {
			if c.Data != "/from/file" {
				return fmt.Sprintf("%+v", c)
			}
			return ""
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadServerConfig(tc.args, io.Discard, envMap(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.want(c); got != "" {
				t.Errorf("got %s", got)
			}
		})
	}
}

func TestServerConfigErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o600)
		return p
	}
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"unknown key names its line", []string{"--config", write("unknown.yaml", "listen: \":8443\"\ndata: ./d\nlisten_adress: x\n")}, nil,
			"line 3: field listen_adress not found"},
		{"nested unknown key", []string{"--config", write("nested.yaml", "snmp:\n  port: 161\n  community: public\n")}, nil,
			"line 3: field community not found"},
		{"bad duration in file", []string{"--config", write("dur.yaml", "session_ttl: forever\n")}, nil, "line 1: \"forever\" is not a duration"},
		{"missing file", []string{"--config", filepath.Join(dir, "nope.yaml")}, nil, "no such file"},
		{"bad listen", []string{"--listen", "8443"}, nil, `listen "8443": want HOST:PORT`},
		{"bad env number", nil, map[string]string{"LANSCOUT_SNMP_PORT": "snmp"}, `LANSCOUT_SNMP_PORT: "snmp" is not a number`},
		{"bad env port", nil, map[string]string{"LANSCOUT_SNMP_PORT": "70000"}, "snmp.port 70000"},
		{"bad env duration", nil, map[string]string{"LANSCOUT_SESSION_TTL": "soon"}, "LANSCOUT_SESSION_TTL"},
		{"bad proxy", []string{"--trusted-proxies", "10.0.0.1,proxy.example"}, nil, `"proxy.example" is neither an address nor a CIDR`},
		{"bad log level", []string{"--log-level", "chatty"}, nil, `log_level "chatty"`},
		{"short session", []string{"--session-ttl", "10s"}, nil, "session_ttl 10s"},
		{"stray argument", []string{"extra"}, nil, `unexpected argument "extra"`},
		{"negative sweep rate", nil, map[string]string{"LANSCOUT_SWEEP_RATE": "-5"}, "sweep.rate -5"},
		{"too many sweep retries", []string{"--config", write("sweep.yaml", "sweep:\n  retries: 11\n")}, nil, "sweep.retries 11: want 0-10"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadServerConfig(tc.args, io.Discard, envMap(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestSweepSettings: sweep: sets the server's own sweeps and its agents'
// scan tasks alike (agents.scan_rate, when set, the agents' rate alone);
// retries 0 means none for both, the default is the engine's 2.
func TestSweepSettings(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, yaml            string
		env                   map[string]string
		rate, retries         int // the file's, after the environment
		agentRate, agentRetry int // web.AgentOptions
	}{
		{"defaults", "", nil, 0, 2, 0, 2},
		{"file", "sweep:\n  rate: 300\n  retries: 0\n", nil, 300, 0, 300, -1},
		{"env over file", "sweep:\n  rate: 300\n", map[string]string{"LANSCOUT_SWEEP_RETRIES": "4"}, 300, 4, 300, 4},
		{"agents' own rate", "sweep:\n  rate: 300\nagents:\n  scan_rate: 50\n", nil, 300, 2, 50, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".yaml")
			if err := os.WriteFile(file, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := loadServerConfig([]string{"--config", file}, io.Discard, envMap(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Sweep.Rate != tc.rate || cfg.Sweep.Retries != tc.retries {
				t.Errorf("sweep %+v, want rate %d retries %d", cfg.Sweep, tc.rate, tc.retries)
			}
			var o web.Options
			if err := cfg.Agents.apply(&o, serverDeps{cfg: &cfg}); err != nil {
				t.Fatal(err)
			}
			if o.Agents.ScanRate != tc.agentRate || o.Agents.ScanRetries != tc.agentRetry {
				t.Errorf("agent scan rate %d retries %d, want %d and %d", o.Agents.ScanRate, o.Agents.ScanRetries, tc.agentRate, tc.agentRetry)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer the server goroutine writes while the test
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type runningServer struct {
	url    string
	stderr *syncBuffer
	stop   func() error
	client *http.Client
}

// adminTokenCLI makes an admin API token with `lanscout token create` on
// the data directory dir, as an operator would while the server runs.
func adminTokenCLI(t *testing.T, dir, name string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := Run(context.Background(), []string{"token", "create", "--data", dir, "--name", name, "--role", "admin"},
		strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("token create: %d %s", code, errOut.String())
	}
	return strings.TrimSpace(out.String())
}

// scanNow starts a scan of the subnet through the API and waits, up to
// within, for it to end: the run as it ended, for the caller to judge.
func (srv *runningServer) scanNow(t *testing.T, token string, subnetID int64, within time.Duration) inventory.ScanRun {
	t.Helper()
	var run inventory.ScanRun
	if code := srv.apiCall(t, token, "POST", fmt.Sprintf("/api/v1/subnets/%d/scan", subnetID), nil, &run); code != http.StatusAccepted {
		t.Fatalf("scan: %d", code)
	}
	deadline := time.Now().Add(within)
	for run.Status == inventory.ScanRunning {
		if time.Now().After(deadline) {
			t.Fatalf("scan still running after %v:\n%s", within, srv.stderr)
		}
		time.Sleep(100 * time.Millisecond)
		srv.apiCall(t, token, "GET", fmt.Sprintf("/api/v1/scans/%d", run.ID), nil, &run)
	}
	return run
}

// apiCall calls the server's API with a bearer token: body goes as JSON,
// a 2xx answer is decoded into v (when not nil) and any other is logged.
// It returns the status.
func (srv *runningServer) apiCall(t *testing.T, token, method, path string, body, v any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, srv.url+path, r)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := srv.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Logf("%s %s: %d %s", method, path, resp.StatusCode, b)
	} else if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

// startServer runs `lanscout server` on 127.0.0.1:0 until the test ends.
func startServer(t *testing.T, dataDir string, vars map[string]string, extra ...string) *runningServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	args := append([]string{"--listen", "127.0.0.1:0", "--data", dataDir}, extra...)
	go func() {
		done <- serverCommand(ctx, env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: stderr}, args, envMap(vars))
	}()
	re := regexp.MustCompile(`listening on (https://\S+)`)
	deadline := time.Now().Add(30 * time.Second)
	var u string
	for u == "" {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			u = m[1]
			break
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("server exited: %v\n%s", err, stderr)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("server did not start:\n%s", stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(30 * time.Second):
				stopErr = fmt.Errorf("server did not stop")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { stop() })
	return &runningServer{url: u, stderr: stderr, stop: stop, client: pinnedClient(t, dataDir)}
}

// pinnedClient trusts exactly the certificate in the data directory.
func pinnedClient(t *testing.T, dataDir string) *http.Client {
	t.Helper()
	pemBytes, err := os.ReadFile(filepath.Join(dataDir, certFile))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("no certificate in tls.crt")
	}
	return &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
}

func TestServerFirstStart(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir, nil)
	out := srv.stderr.String()

	// The password is printed once, and works.
	m := regexp.MustCompile(`Log in as "admin" with password:\s+(\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no admin password printed:\n%s", out)
	}
	form := url.Values{"username": {"admin"}, "password": {m[1]}}
	resp, err := srv.client.PostForm(srv.url+"/login", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("login with the printed password: %d", resp.StatusCode)
	}

	// The printed fingerprints are the certificate's on disk, which the
	// client above verified against (SANs include 127.0.0.1).
	pemBytes, _ := os.ReadFile(filepath.Join(dir, certFile))
	block, _ := pem.Decode(pemBytes)
	sum := sha256.Sum256(block.Bytes)
	if want := "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:]); !strings.Contains(out, want) {
		t.Errorf("output lacks %s:\n%s", want, out)
	}
	hexParts := make([]string, len(sum))
	for i, b := range sum {
		hexParts[i] = fmt.Sprintf("%02X", b)
	}
	if want := strings.Join(hexParts, ":"); !strings.Contains(out, want) {
		t.Errorf("output lacks %s", want)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(cert.DNSNames, "localhost") || cert.PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("certificate names %v, key %v", cert.DNSNames, cert.PublicKeyAlgorithm)
	}
	if st, err := os.Stat(filepath.Join(dir, keyFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, %v; want 0600", st.Mode().Perm(), err)
	}
	if err := srv.stop(); err != nil {
		t.Fatalf("stop: %v\n%s", err, srv.stderr)
	}

	// A second start reuses the certificate and the accounts.
	again := startServer(t, dir, map[string]string{"LANSCOUT_ADMIN_PASSWORD": "ignored now"})
	out2 := again.stderr.String()
	if strings.Contains(out2, "first admin") || strings.Contains(out2, "Created a self-signed") {
		t.Errorf("second start created things again:\n%s", out2)
	}
	if want := "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:]); !strings.Contains(out2, want) {
		t.Error("second start prints another fingerprint")
	}
}

func TestServerAdminPasswordFromEnv(t *testing.T) {
	dir := t.TempDir()
	err := serverCommand(context.Background(), env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard},
		[]string{"--listen", "127.0.0.1:0", "--data", dir}, envMap(map[string]string{"LANSCOUT_ADMIN_PASSWORD": "short"}))
	if err == nil || !strings.Contains(err.Error(), "LANSCOUT_ADMIN_PASSWORD must be 8 to 72 bytes") {
		t.Fatalf("short password: %v", err)
	}
	srv := startServer(t, dir, map[string]string{"LANSCOUT_ADMIN_PASSWORD": "from the environment"})
	if strings.Contains(srv.stderr.String(), "from the environment") {
		t.Error("the password from the environment was printed")
	}
	resp, err := srv.client.PostForm(srv.url+"/login", url.Values{"username": {"admin"}, "password": {"from the environment"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("login: %d", resp.StatusCode)
	}
}

// TestServerScanNow scans 127.0.0.0/30 with the tcp method through the API
// of a real server: 127.0.0.1 answers on a listener, .2 and .3 refuse
// (which proves them up too), and all three are stored.
func TestServerScanNow(t *testing.T) {
	port := tcptest.Listen(t)
	// A UDP port nobody listens on: SNMP probes end at once on the ICMP
	// port unreachable instead of timing out.
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	snmpPort := udp.LocalAddr().(*net.UDPAddr).Port
	udp.Close()

	dir := t.TempDir()
	srv := startServer(t, dir, map[string]string{
		"LANSCOUT_ADMIN_PASSWORD": "admin password",
		"LANSCOUT_TCP_PORTS":      fmt.Sprint(port),
		"LANSCOUT_SNMP_PORT":      fmt.Sprint(snmpPort),
		"LANSCOUT_SNMP_TIMEOUT":   "300ms",
	})

	// An operator token from the CLI, while the server runs.
	token := adminTokenCLI(t, dir, "ci")
	if !strings.HasPrefix(token, "lst_") {
		t.Fatalf("token %q", token)
	}

	call := func(method, path string, body, v any) int {
		t.Helper()
		return srv.apiCall(t, token, method, path, body, v)
	}
	var sn struct{ ID int64 }
	if code := call("POST", "/api/v1/subnets", map[string]any{"cidr": "127.0.0.0/30", "method": "tcp", "name": "loopback"}, &sn); code != http.StatusCreated {
		t.Fatalf("create subnet: %d", code)
	}
	run := srv.scanNow(t, token, sn.ID, 60*time.Second)
	if run.Status != inventory.ScanDone {
		t.Fatalf("scan ended %s: %s", run.Status, run.Error)
	}
	var list struct {
		Items []inventory.Device
		Total int
	}
	call("GET", fmt.Sprintf("/api/v1/devices?subnet=%d&limit=100", sn.ID), nil, &list)
	byIP := map[string]inventory.Device{}
	for _, d := range list.Items {
		byIP[d.IP] = d
	}
	for _, ip := range []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"} {
		if _, ok := byIP[ip]; !ok {
			t.Errorf("%s not stored; devices: %v", ip, list.Items)
		}
	}
	if d := byIP["127.0.0.1"]; !slices.Contains(d.FoundBy, fmt.Sprintf("tcp/%d", port)) {
		t.Errorf("127.0.0.1 found by %v, want tcp/%d", d.FoundBy, port)
	}
	if run.Stats.Recorded < 3 {
		t.Errorf("run recorded %d devices", run.Stats.Recorded)
	}
	if err := srv.stop(); err != nil {
		t.Fatal(err)
	}
}

func TestUserAndTokenCommands(t *testing.T) {
	dir := t.TempDir()
	run := func(stdin string, args ...string) (string, string, int) {
		var out, errOut bytes.Buffer
		code := Run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
		return out.String(), errOut.String(), code
	}
	// No store yet: refused rather than creating one.
	if _, stderr, code := run("a password\n", "user", "add", "--data", dir, "alice"); code != 1 || !strings.Contains(stderr, "no lanscout data") {
		t.Fatalf("user add without data: %d %s", code, stderr)
	}
	ctx := context.Background()
	store, err := inventory.OpenSQLite(ctx, dir, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()

	if _, stderr, code := run("first password\n", "user", "add", "--data", dir, "--role", "operator", "alice"); code != 0 {
		t.Fatalf("user add: %d %s", code, stderr)
	}
	if u, err := store.Authenticate(ctx, "alice", "first password"); err != nil || u.Role != inventory.RoleOperator {
		t.Fatalf("alice: %+v %v", u, err)
	}
	if _, stderr, code := run("short\n", "user", "add", "--data", dir, "bob"); code != 1 || !strings.Contains(stderr, "at least 8") {
		t.Errorf("short password: %d %s", code, stderr)
	}
	if _, stderr, code := run("second password\n", "user", "passwd", "--data", dir, "alice"); code != 0 {
		t.Fatalf("passwd: %d %s", code, stderr)
	}
	if _, err := store.Authenticate(ctx, "alice", "second password"); err != nil {
		t.Errorf("new password: %v", err)
	}
	if _, _, code := run("", "user", "remove", "alice"); code != 2 {
		t.Errorf("unknown subcommand: %d, want 2", code)
	}

	stdout, stderr, code := run("", "token", "create", "--data", dir, "--name", "grafana", "--role", "viewer", "--expires", "90d")
	if code != 0 {
		t.Fatalf("token create: %d %s", code, stderr)
	}
	tok, err := store.AuthenticateAPIToken(ctx, strings.TrimSpace(stdout))
	if err != nil || tok.Role != inventory.RoleViewer || tok.Expires.Sub(time.Now()) < 89*24*time.Hour {
		t.Errorf("token: %+v %v", tok, err)
	}
	if _, _, code := run("", "token", "create", "--data", dir, "--name", "x", "--role", "root"); code != 2 {
		t.Errorf("bad role: %d, want 2", code)
	}
	entries, _, _ := store.AuditLog(ctx, inventory.AuditQuery{Actor: "cli"})
	if len(entries) != 3 {
		t.Errorf("audit entries by cli: %d, want 3 (user.create, user.passwd, token.create)", len(entries))
	}
}
