package oui_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedTableIsCurrent regenerates the table from the installed
// ieee-data and compares it with the committed one.
func TestGeneratedTableIsCurrent(t *testing.T) {
	if _, err := os.Stat("/usr/share/ieee-data/oui.csv"); err != nil {
		t.Skipf("ieee-data not installed: %v", err)
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go tool: %v", err)
	}
	out := filepath.Join(t.TempDir(), "oui.bin.gz")
	cmd := exec.Command(gobin, "run", "./internal/gen", "-in", "/usr/share/ieee-data", "-out", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("generator: %v\n%s", err, b)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("oui.bin.gz")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("oui.bin.gz differs from what the generator makes of the installed ieee-data: run go generate ./discover/oui")
	}
}
