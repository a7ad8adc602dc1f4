package inventory

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestLibcPinMatchesSQLite guards the documented pitfall of
// modernc.org/sqlite: it must run on exactly the modernc.org/libc its own
// go.mod names, or it crashes on some platforms. Bumping either module
// without the other fails here.
func TestLibcPinMatchesSQLite(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to inspect the module graph")
	}
	list := func(args ...string) string {
		out, err := exec.Command(goBin, append([]string{"list", "-m"}, args...)...).Output()
		if err != nil {
			t.Skipf("go list -m %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	sqliteMod := list("-f", "{{.GoMod}}", "modernc.org/sqlite")
	selected := list("-f", "{{.Version}}", "modernc.org/libc")
	body, err := os.ReadFile(sqliteMod)
	if err != nil {
		t.Skipf("read %s: %v", sqliteMod, err)
	}
	m := regexp.MustCompile(`(?m)^\s*modernc\.org/libc\s+(v\S+)`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("%s names no modernc.org/libc", sqliteMod)
	}
	t.Logf("modernc.org/libc %s selected, %s required by %s", selected, m[1], sqliteMod)
	if want := string(m[1]); selected != want {
		t.Errorf("modernc.org/libc is %s, but modernc.org/sqlite requires exactly %s: pin it in go.mod", selected, want)
	}
}
