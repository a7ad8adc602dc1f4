package main

import (
	"strings"
	"testing"
)

func TestUpdateReplacesOnlyNamedSections(t *testing.T) {
	report := "# Benchmarks\n\n- Date: old\n\n## Method\n\nhow\n\n## ARP sweeps\n\narp old\n\n### /24\n\nrows\n\n## Election of scanners\n\nelection old\n\n"
	chunks := splitReport(report)
	if len(chunks) != 3 || !strings.HasPrefix(chunks[0], "# Benchmarks") || !strings.Contains(chunks[0], "## Method") {
		t.Fatalf("chunks: %q", chunks)
	}
	if strings.Join(chunks, "") != report {
		t.Fatalf("split loses text: %q", strings.Join(chunks, ""))
	}
	chunks = replaceSection(chunks, "## Election of scanners\n\nelection new\n\n")
	chunks = replaceSection(chunks, "## Agents: contact handling\n\nagents\n\n")
	got := strings.Join(chunks, "")
	want := "# Benchmarks\n\n- Date: old\n\n## Method\n\nhow\n\n## ARP sweeps\n\narp old\n\n### /24\n\nrows\n\n## Election of scanners\n\nelection new\n\n## Agents: contact handling\n\nagents\n\n"
	if got != want {
		t.Fatalf("updated report:\n%s\nwant:\n%s", got, want)
	}
}
