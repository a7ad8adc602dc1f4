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
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "github.com/lanscout/lanscout/...").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || !slices.Contains(fields[1:], "github.com/lanscout/lanscout/web") {
			continue
		}
		if fields[0] != "github.com/lanscout/lanscout/internal/cli" {
			t.Errorf("%s imports web; only internal/cli may", fields[0])
		}
	}
}
