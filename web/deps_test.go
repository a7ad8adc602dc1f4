package web_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestOnlyCLIImportsWeb keeps the package boundary doc.go states: the
// engine and the store must not grow a dependency on the HTTP side.
func TestOnlyCLIImportsWeb(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{.Name}} {{join .Imports " "}}`, "github.com/lanscout/lanscout/...").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 || !slices.Contains(fields[2:], "github.com/lanscout/lanscout/web") {
			continue
		}
		// Programs (cmd/lanscout through internal/cli, the benchmark) may
		// serve the web package; no library may depend on it.
		if fields[0] != "github.com/lanscout/lanscout/internal/cli" && fields[1] != "main" {
			t.Errorf("%s imports web; only internal/cli and programs may", fields[0])
		}
	}
}
