package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestAgentCommandUsage: bad command lines are refused with exit code 2
// and a message saying what is wrong, before anything is contacted.
func TestAgentCommandUsage(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		code int
		want string
	}{
		{[]string{"agent"}, nil, 2, "--server is required"},
		{[]string{"agent", "--server", "https://x", "extra"}, nil, 2, "unexpected arguments"},
		{[]string{"agent", "--server", "https://x", "--log-level", "loud"}, nil, 2, "loud"},
		{[]string{"agent", "--server", "http://x:8443", "--state", "STATE"}, nil, 1, "https"},
		{[]string{"agent", "--server", "https://x", "--server-fingerprint", "SHA256:short", "--state", "STATE"}, nil, 1, "fingerprint"},
		{[]string{"agent", "--server", "https://x", "--ca", "/nonexistent.pem", "--state", "STATE"}, nil, 1, "CA file"},
		// No token in the state directory and no key: refused at once.
		{[]string{"agent", "--state", "STATE", "--server-fingerprint", "SHA256:" + strings.Repeat("A", 43)}, map[string]string{"LANSCOUT_SERVER": "https://127.0.0.1:1"}, 1, "--enroll-key"},
	}
	for _, c := range cases {
		dir := t.TempDir()
		args := make([]string, len(c.args))
		for i, a := range c.args {
			args[i] = strings.ReplaceAll(a, "STATE", dir)
		}
		var stderr bytes.Buffer
		e := env{stdout: &bytes.Buffer{}, stderr: &stderr}
		code := exitCode(e.stderr, "agent", agentCommand(context.Background(), e, args[1:], func(k string) string { return c.env[k] }))
		if code != c.code || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d mentioning %q", c.args, code, stderr.String(), c.code, c.want)
		}
	}
}
