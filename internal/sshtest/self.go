package sshtest

import (
	"os"
	"path/filepath"
	"testing"
)

// SelfCommandEnv is set to "1" in the sessions of a server whose Env came
// from SelfCommand: it tells the test binary that it runs as the command.
const SelfCommandEnv = "LANSCOUT_TEST_AS_CLI"

// SelfCommand returns an Options.Env under which the command name, run in
// the server's sessions, is this test binary running only the test helper
// (a TestXxx that starts with HelperArgs), with the command's arguments.
// It is a script in a temporary directory put first on PATH, at path; add
// to env what else the sessions need.
func SelfCommand(t testing.TB, name, helper string) (path string, env map[string]string) {
	t.Helper()
	dir := t.TempDir()
	script := "#!/bin/sh\nexec '" + os.Args[0] + "' -test.run='^" + helper + "$' -- \"$@\"\n"
	path = filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, map[string]string{"PATH": dir + ":/usr/bin:/bin", SelfCommandEnv: "1"}
}

// HelperArgs says whether this process is a SelfCommand run and, if so,
// the command's arguments (those after "--").
func HelperArgs() ([]string, bool) {
	if os.Getenv(SelfCommandEnv) == "" {
		return nil, false
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			return args[i+1:], true
		}
	}
	return args, true
}
