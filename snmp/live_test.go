package snmp_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/internal/snmptest"
	"github.com/lanscout/lanscout/snmp"
)

// Pass phrases of the test agent's v3 users.
const (
	shaUser, shaAuth, shaPriv = "shaaes", "sha-auth-pass", "aes-priv-pass"
	md5User, md5Auth, md5Priv = "md5des", "md5-auth-pass", "des-priv-pass"
	sha256User, sha256Auth    = "sha256only", "sha256-auth-pass"
)

func startSnmpd(t *testing.T) *snmptest.Snmpd {
	t.Helper()
	return snmptest.StartSnmpd(t, snmptest.SnmpdOptions{
		Community:   "s3cret-comm",
		SysDescr:    "lanscout test agent",
		SysObjectID: "1.3.6.1.4.1.8072.3.2.10",
		SysServices: 72,
		Users: []snmptest.V3User{
			{Name: shaUser, Auth: "SHA", AuthPass: shaAuth, Priv: "AES", PrivPass: shaPriv},
			{Name: md5User, Auth: "MD5", AuthPass: md5Auth, Priv: "DES", PrivPass: md5Priv},
			{Name: sha256User, Auth: "SHA-256", AuthPass: sha256Auth},
		},
	})
}

func dial(t *testing.T, addr netip.AddrPort, c snmp.Credential) *snmp.Session {
	t.Helper()
	s, err := snmp.Dial(context.Background(), addr, c, snmp.SessionOptions{Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSessionVersions(t *testing.T) {
	d := startSnmpd(t)
	creds := map[string]snmp.Credential{
		"v1":         {Version: snmp.V1, Community: "s3cret-comm"},
		"v2c":        {Version: snmp.V2c, Community: "s3cret-comm"},
		"v3 SHA/AES": {Version: snmp.V3, User: shaUser, Auth: snmp.SHA, AuthPass: shaAuth, Priv: snmp.AES, PrivPass: shaPriv},
		"v3 MD5/DES": {Version: snmp.V3, User: md5User, Auth: snmp.MD5, AuthPass: md5Auth, Priv: snmp.DES, PrivPass: md5Priv},
		"v3 SHA-256": {Version: snmp.V3, User: sha256User, Auth: snmp.SHA256, AuthPass: sha256Auth},
	}
	for name, c := range creds {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s := dial(t, d.Addr, c)
			vars, err := s.Get(ctx, []string{"1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0", "1.3.6.1.2.1.1.7.0", "1.3.6.1.2.1.1.99.0"})
			if err != nil {
				t.Fatal(err)
			}
			if got := vars[0].Text(); got != "lanscout test agent" {
				t.Errorf("sysDescr = %q", got)
			}
			if got := vars[1].OID; got != "1.3.6.1.4.1.8072.3.2.10" {
				t.Errorf("sysObjectID = %q", got)
			}
			if n, _ := vars[2].Number(); n != 72 {
				t.Errorf("sysServices = %d", n)
			}
			if vars[3].Exists() {
				t.Errorf("missing OID came back as %+v", vars[3])
			}
			var rows []snmp.Var
			if err := s.Walk(ctx, "1.3.6.1.2.1.1", 0, func(v snmp.Var) error { rows = append(rows, v); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(rows) < 7 {
				t.Errorf("system walk: %d rows", len(rows))
			}
			for i := 1; i < len(rows); i++ {
				if snmp.CompareOID(rows[i-1].Name, rows[i].Name) >= 0 {
					t.Errorf("walk not increasing: %s then %s", rows[i-1].Name, rows[i].Name)
				}
			}
		})
	}
}

func TestSessionWrongV3(t *testing.T) {
	d := startSnmpd(t)
	cases := map[string]snmp.Credential{
		"wrong auth password":    {Version: snmp.V3, User: shaUser, Auth: snmp.SHA, AuthPass: "not-the-pass", Priv: snmp.AES, PrivPass: shaPriv},
		"wrong privacy password": {Version: snmp.V3, User: shaUser, Auth: snmp.SHA, AuthPass: shaAuth, Priv: snmp.AES, PrivPass: "not-the-pass"},
		"unknown user":           {Version: snmp.V3, User: "nobody-here", Auth: snmp.SHA, AuthPass: shaAuth, Priv: snmp.AES, PrivPass: shaPriv},
		"wrong auth protocol":    {Version: snmp.V3, User: sha256User, Auth: snmp.SHA512, AuthPass: sha256Auth},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s := dial(t, d.Addr, c)
			start := time.Now()
			_, err := s.Get(ctx, []string{"1.3.6.1.2.1.1.1.0"})
			t.Logf("%v after %v", err, time.Since(start))
			if !errors.Is(err, snmp.ErrAuthFailed) {
				t.Errorf("err = %v, want ErrAuthFailed", err)
			}
			// The message names the cause.
			want := map[string]string{
				"wrong auth password":    "wrong auth password or protocol",
				"wrong privacy password": "wrong privacy password or protocol",
				"unknown user":           `unknown user "nobody-here"`,
				"wrong auth protocol":    "wrong auth password or protocol",
			}[name]
			if !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v, want it to say %q", err, want)
			}
			if strings.Contains(err.Error(), "not-the-pass") {
				t.Errorf("err shows the pass phrase: %v", err)
			}
		})
	}
}
