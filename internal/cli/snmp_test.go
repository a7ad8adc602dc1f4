package cli

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lanscout/lanscout/internal/snmptest"
	"github.com/lanscout/lanscout/snmp"
)

func TestCredentialFlags(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "creds.yml")
	os.WriteFile(file, []byte("credentials:\n  - name: office\n    community: hunter2-file\n"), 0o600)
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	creds := credentialFlags(fs)
	args := []string{"--community", "public", "--snmp-v3", "u:SHA:hunter2-auth:AES:hunter2-priv@ctx", "--credentials", file, "--community", "v1:private"}
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	got, err := creds()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range got {
		names = append(names, c.Name+"/"+c.Version.String())
	}
	if diff := cmp.Diff([]string{"v2c-1/2c", "v3-1/3", "office/2c", "v1-1/1"}, names); diff != "" {
		t.Errorf("credentials in command-line order (-want +got):\n%s", diff)
	}
	if got[1].Context != "ctx" || got[1].PrivPass != "hunter2-priv" {
		t.Errorf("v3 credential: %+v", got[1])
	}

	bad := [][]string{
		{"--snmp-v3", "u:SHA:hunter2"},
		{"--snmp-v3", "u:ROT13:hunter2-auth"},
		{"--community", "v1:"},
		{"--credentials", filepath.Join(dir, "missing.yml")},
	}
	for _, args := range bad {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		var out bytes.Buffer
		fs.SetOutput(&out)
		creds := credentialFlags(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatalf("%v: flag parsing must not reject (it would quote the secret): %v", args, err)
		}
		_, err := creds()
		if err == nil {
			t.Errorf("%v: no error", args)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") || strings.Contains(out.String(), "hunter2") {
			t.Errorf("%v: error shows a secret: %v", args, err)
		}
	}
}

func TestFormatValue(t *testing.T) {
	cases := []struct {
		v    snmp.Var
		want string
	}{
		{snmp.Var{Kind: snmp.Integer, Int: -3}, "INTEGER: -3"},
		{snmp.Var{Kind: snmp.OctetString, Bytes: []byte("a \"b\"")}, `STRING: "a \"b\""`},
		{snmp.Var{Kind: snmp.OctetString, Bytes: []byte{0, 0x12, 0xff}}, "Hex-STRING: 00 12 FF"},
		{snmp.Var{Kind: snmp.OctetString, Bytes: []byte{}}, `STRING: ""`},
		{snmp.Var{Kind: snmp.ObjectID, OID: "1.3.6.1.4.1.9"}, "OID: .1.3.6.1.4.1.9"},
		{snmp.Var{Kind: snmp.IPAddress, Bytes: []byte{10, 0, 0, 1}}, "IpAddress: 10.0.0.1"},
		{snmp.Var{Kind: snmp.TimeTicks, Uint: 422559570}, "Timeticks: (422559570) 48 days, 21:46:35.70"},
		{snmp.Var{Kind: snmp.Counter64, Uint: 1 << 40}, "Counter64: 1099511627776"},
		{snmp.Var{Kind: snmp.Gauge32, Uint: 7}, "Gauge32: 7"},
		{snmp.Var{Kind: snmp.Null}, "NULL"},
	}
	for _, c := range cases {
		if got := formatValue(c.v); got != c.want {
			t.Errorf("formatValue(%v) = %q, want %q", c.v.Kind, got, c.want)
		}
	}
}

func TestResolveTarget(t *testing.T) {
	cases := map[string]string{
		"127.0.0.1":      "127.0.0.1:161",
		"127.0.0.1:1161": "127.0.0.1:1161",
		"::1":            "[::1]:161",
		"[::1]:1161":     "[::1]:1161",
		"localhost:1161": "127.0.0.1:1161",
	}
	for in, want := range cases {
		got, err := resolveTarget(context.Background(), in, 161)
		if err != nil || got.String() != want {
			t.Errorf("resolveTarget(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	if _, err := resolveTarget(context.Background(), "127.0.0.1:0", 161); err == nil {
		t.Error("port 0 accepted")
	}
}

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	code = Run(ctx, args, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestSNMPUsage(t *testing.T) {
	for _, args := range [][]string{{"snmp"}, {"snmp", "bogus"}, {"snmp", "walk"}, {"snmp", "walk", "--max-repetitions", "65", "127.0.0.1"}, {"snmp", "record", "a", "b"}} {
		if _, stderr, code := runCLI(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, stderr)
		}
	}
	if _, _, code := runCLI(t, "snmp", "walk", "-h"); code != 0 {
		t.Errorf("-h: exit %d", code)
	}
	// A closed port fails at once with exit code 1.
	_, stderr, code := runCLI(t, "snmp", "walk", "--timeout", "10s", "127.0.0.1:1")
	if code != 1 || !strings.Contains(stderr, "port closed") {
		t.Errorf("closed port: exit %d, %s", code, stderr)
	}
}

// TestSNMPWalkAndRecord walks and records a device served by snmpsim,
// then serves the recording made by lanscout with snmpsim again: the two
// agents must hold the same variables.
func TestSNMPWalkAndRecord(t *testing.T) {
	src := snmptest.CorpusFile(t, "canonprinter_lbp.snmprec")
	sim := snmptest.StartSim(t, []string{src}, snmptest.SimOptions{})
	target := sim.Devices[0].Addr.String()

	out, stderr, code := runCLI(t, "snmp", "walk", "--community", "wrong-one", "--community", "public", "--timeout", "300ms", target, "1.3.6.1.2.1.1")
	if code != 0 {
		t.Fatalf("walk: exit %d: %s", code, stderr)
	}
	if !strings.HasPrefix(out, ".1.3.6.1.2.1.1.1.0 = STRING: ") || !strings.Contains(out, ".1.3.6.1.2.1.1.2.0 = OID: .1.3.6.1.4.1.") {
		t.Errorf("walk output:\n%s", out)
	}

	recPath := filepath.Join(t.TempDir(), "device.snmprec")
	if _, stderr, code := runCLI(t, "snmp", "record", "-o", recPath, target); code != 0 {
		t.Fatalf("record: exit %d: %s", code, stderr)
	}
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	want, err := snmp.ParseSnmprec(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	rf, err := os.Open(recPath)
	if err != nil {
		t.Fatal(err)
	}
	got, err := snmp.ParseSnmprec(rf)
	rf.Close()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want.Vars(), got.Vars()); diff != "" {
		t.Errorf("recording differs from the source (-source +recorded):\n%s", diff)
	}

	again := snmptest.StartSim(t, []string{recPath}, snmptest.SimOptions{})
	out2, stderr, code := runCLI(t, "snmp", "walk", again.Devices[0].Addr.String(), "1.3.6.1")
	if code != 0 {
		t.Fatalf("walk of the re-served recording: exit %d: %s", code, stderr)
	}
	out1, _, _ := runCLI(t, "snmp", "walk", target, "1.3.6.1")
	if diff := cmp.Diff(out1, out2); diff != "" {
		t.Errorf("snmpsim serving lanscout's recording differs from the original:\n%s", diff)
	}

	// Caps: rows.
	out, stderr, code = runCLI(t, "snmp", "walk", "--max-rows", "5", target, "1.3.6.1")
	if code != 0 || strings.Count(out, "\n") != 5 || !strings.Contains(stderr, "partial") {
		t.Errorf("--max-rows 5: exit %d, %d lines, %s", code, strings.Count(out, "\n"), stderr)
	}
}

// TestSNMPWalkV3Context reads a device that answers a v3 user only within
// a context, named with the --snmp-v3 @context suffix.
func TestSNMPWalkV3Context(t *testing.T) {
	src := snmptest.CorpusFile(t, "3com.snmprec")
	sim := snmptest.StartSim(t, []string{src}, snmptest.SimOptions{Plain: true})
	d := sim.Devices[0]
	cred := snmptest.SimV3User + ":MD5:" + snmptest.SimV3AuthPass + ":DES:" + snmptest.SimV3PrivPass
	out, stderr, code := runCLI(t, "snmp", "walk", "--timeout", "500ms", "--retries", "0",
		"--snmp-v3", cred, "--snmp-v3", cred+"@"+d.Community, d.Addr.String(), "1.3.6.1.2.1.1.1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if out != ".1.3.6.1.2.1.1.1.0 = STRING: \"3Com SuperStack 3\"\n" {
		t.Errorf("output: %q", out)
	}
}
