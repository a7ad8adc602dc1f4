package typing_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/lanscout/lanscout/snmp"
	"github.com/lanscout/lanscout/typing"
)

// labelExceptions are dev-set labels we are convinced are wrong, with why.
// The test reports them but does not fail on them.
var labelExceptions = map[string]string{
	// sysDescr "Cisco NX-OS(tm) ucs, Software (ucs-6100-k9-system)" and the
	// CISCO-UNIFIED-COMPUTING-MIB rows: a UCS 6100 fabric interconnect, a
	// data-centre switch. The label follows the recording's OS name
	// ("ucos"), which is Cisco's voice platform; nothing in the device
	// says telephony.
	"ucos_2.snmprec": "UCS fabric interconnect (NX-OS switch), labelled phone",
	// sysDescr "Linux, Cisco Systems, Inc WAP371 (WAP371-A-K9)" with four
	// ieee80211 radio interfaces: a wireless access point from Cisco's
	// small-business line, labelled with the line's usual switch category.
	"ciscosb.snmprec": "Cisco WAP371 access point, labelled switch|router",
	// The recording holds only objects under 1.3.6.1.2.1.555 (no system
	// group, no standard MIB): a live agent asked the default plan would
	// answer nothing, so the device is unknown, not power.
	"supercap.snmprec": "answers none of the plan's objects, labelled power",
}

func corpusDir(t *testing.T) string {
	if dir := os.Getenv("LANSCOUT_CORPUS"); dir != "" {
		return dir
	}
	return filepath.Join("..", "..", "shared", "corpus", "dev")
}

type label struct {
	file string
	want []typing.Category // empty: any
}

func readLabels(t *testing.T, dir string) []label {
	f, err := os.Open(filepath.Join(dir, "labels.tsv"))
	if err != nil {
		t.Skipf("skipping: dev corpus not found (%v); set LANSCOUT_CORPUS to its directory", err)
	}
	defer f.Close()
	var out []label
	sc := bufio.NewScanner(f)
	for first := true; sc.Scan(); first = false {
		cols := strings.Split(sc.Text(), "\t")
		if first || len(cols) < 3 {
			continue
		}
		l := label{file: cols[0]}
		if cols[2] != "any" {
			for _, c := range strings.Split(cols[2], "|") {
				l.want = append(l.want, typing.Category(c))
			}
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDevCorpus(t *testing.T) {
	dir := corpusDir(t)
	labels := readLabels(t, dir)
	c, err := typing.New(typing.Options{})
	if err != nil {
		t.Fatal(err)
	}
	plan := snmp.DefaultPlan()
	confusion := map[string]map[typing.Category]int{}
	scored, right, requests := 0, 0, 0
	for _, l := range labels {
		f, err := os.Open(filepath.Join(dir, "snmprec", l.file))
		if err != nil {
			t.Fatal(err)
		}
		rec, err := snmp.ParseSnmprec(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", l.file, err)
		}
		ev, err := snmp.Gather(context.Background(), rec, plan)
		if err != nil {
			t.Fatalf("%s: gather: %v", l.file, err)
		}
		requests += ev.Requests
		res := c.Classify(typing.Input{Evidence: ev})
		wantText := "any"
		if len(l.want) > 0 {
			var s []string
			for _, w := range l.want {
				s = append(s, string(w))
			}
			wantText = strings.Join(s, "|")
		}
		if confusion[wantText] == nil {
			confusion[wantText] = map[typing.Category]int{}
		}
		confusion[wantText][res.Category]++
		if testing.Verbose() {
			t.Logf("%-45s %-18s -> %-12s %.2f vendor=%q model=%q serial=%q | %s", l.file, wantText,
				res.Category, res.Confidence, res.Vendor, res.Model, res.Serial, strings.Join(res.Reasons, "; "))
		}
		if len(l.want) == 0 {
			continue
		}
		scored++
		ok := false
		for _, w := range l.want {
			ok = ok || w == res.Category
		}
		if ok {
			right++
			continue
		}
		if why, exempt := labelExceptions[l.file]; exempt {
			t.Logf("label exception %s: got %s, label %s: %s", l.file, res.Category, wantText, why)
			continue
		}
		t.Errorf("%s: got %s (%.2f, vendor %q, model %q), want %s; reasons: %s",
			l.file, res.Category, res.Confidence, res.Vendor, res.Model, wantText, strings.Join(res.Reasons, "; "))
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
		right, scored, 100*float64(right)/float64(max(scored, 1)), len(labelExceptions),
		float64(requests)/float64(max(len(labels), 1)))
}
