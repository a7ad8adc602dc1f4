package typing_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/lanscout/lanscout/internal/snmptest"
	"github.com/lanscout/lanscout/snmp"
	"github.com/lanscout/lanscout/typing"
)

func TestDevCorpus(t *testing.T) {
	dir := snmptest.CorpusDir(t)
	labels, err := snmptest.ReadLabels(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := typing.New(typing.Options{})
	if err != nil {
		t.Fatal(err)
	}
	plan := snmp.DefaultPlan()
	confusion := map[string]map[typing.Category]int{}
	scored, right, requests := 0, 0, 0
	for _, l := range labels {
		f, err := os.Open(filepath.Join(dir, "snmprec", l.File))
		if err != nil {
			t.Fatal(err)
		}
		rec, err := snmp.ParseSnmprec(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", l.File, err)
		}
		ev, err := snmp.Gather(context.Background(), rec, plan)
		if err != nil {
			t.Fatalf("%s: gather: %v", l.File, err)
		}
		requests += ev.Requests
		res := c.Classify(typing.Input{Evidence: ev})
		wantText := l.String()
		if confusion[wantText] == nil {
			confusion[wantText] = map[typing.Category]int{}
		}
		confusion[wantText][res.Category]++
		if testing.Verbose() {
			t.Logf("%-45s %-18s -> %-12s %.2f vendor=%q model=%q serial=%q | %s", l.File, wantText,
				res.Category, res.Confidence, res.Vendor, res.Model, res.Serial, strings.Join(res.Reasons, "; "))
		}
		if len(l.Want) == 0 {
			continue
		}
		scored++
		if l.Accepts(string(res.Category)) {
			right++
			continue
		}
		if why, exempt := snmptest.LabelExceptions[l.File]; exempt {
			t.Logf("label exception %s: got %s, label %s: %s", l.File, res.Category, wantText, why)
			continue
		}
		t.Errorf("%s: got %s (%.2f, vendor %q, model %q), want %s; reasons: %s",
			l.File, res.Category, res.Confidence, res.Vendor, res.Model, wantText, strings.Join(res.Reasons, "; "))
	}
	var rows []string
	for want, got := range confusion {
		var cells []string
		for cat, n := range got {
			cells = append(cells, fmt.Sprintf("%s=%d", cat, n))
		}
		sort.Strings(cells)
		rows = append(rows, fmt.Sprintf("  %-20s -> %s", want, strings.Join(cells, " ")))
	}
	sort.Strings(rows)
	t.Logf("confusion (label -> answers):\n%s", strings.Join(rows, "\n"))
	t.Logf("dev accuracy: %d/%d scored right (%.1f%%), %d label exceptions; %.1f requests per device",
		right, scored, 100*float64(right)/float64(max(scored, 1)), len(snmptest.LabelExceptions),
		float64(requests)/float64(max(len(labels), 1)))
}
