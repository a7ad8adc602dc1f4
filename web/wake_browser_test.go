package web_test

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/web"
)

// TestWakePageLive: in a real browser (Debian's chromium, headless), the
// job page of a running wake follows the job through /static/wake.js as
// it ends, without a reload, and the strict Content-Security-Policy lets
// the script run (the console shows no error); "Wake selected" on the
// devices list wakes the boxes ticked.
func TestWakePageLive(t *testing.T) {
	exe, err := exec.LookPath("chromium")
	if err != nil {
		t.Skipf("skipping: no chromium to run the page's script: %v", err)
	}
	f := wakeFixture(t, web.WakeFallbackNone)
	f.user("otto", inventory.RoleOperator)
	ctx := context.Background()
	// A job as the server shows it while it watches for the machine: it
	// is written to the store directly so that it stays running until
	// the test ends it.
	j, err := f.store.CreateWakeJob(ctx, inventory.WakeJob{RequestedBy: "otto", Source: "ui", Targets: []inventory.WakeTarget{
		{MAC: "02:00:00:00:00:0a", IP: "198.51.100.10", Subnet: "198.51.100.0/24", Route: inventory.WakeRouteLocal,
			Via: "eth1", Method: "raw", Status: inventory.WakeSent, SentAt: time.Now()}}})
	if err != nil {
		t.Fatal(err)
	}

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true), chromedp.Flag("disable-dev-shm-usage", true),
		// httptest's certificate; only in this test.
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	bctx, cancelT := context.WithTimeout(bctx, 2*time.Minute)
	defer cancelT()
	var mu sync.Mutex
	var console []chromedp.ConsoleMessage
	msgs := chromedp.Console(bctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			mu.Lock()
			console = append(console, m)
			mu.Unlock()
		}
	}()
	base := f.ts.URL
	err = chromedp.Do(bctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), "otto"),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS("form[action='/login'] button[type=submit]")),
		// The dashboard after the login (bcrypt takes its time).
		chromedp.WaitVisible(chromedp.CSS("header.top")),
		chromedp.Navigate(fmt.Sprintf("%s/wake/%d", base, j.ID)),
		chromedp.WaitVisible(chromedp.CSS(".wake-live")),
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	state := func() string {
		s, err := chromedp.Run(bctx, chromedp.Evaluate[string](`[".wake-status", ".wake-took", ".wake-detail", ".wake-job-status"]
			.map(function (q) { return document.querySelector(q).textContent.trim(); }).join(" | ") +
			(document.querySelector(".wake-live") ? " | live" : "")`))
		if err != nil {
			t.Fatalf("read the page: %v", err)
		}
		return s
	}
	if got := state(); got != "sent, watching… |  |  | running | live" {
		t.Fatalf("running job shows %q", got)
	}
	tg := j.Targets[0]
	tg.Status, tg.ConfirmedAt, tg.ConfirmedBy = inventory.WakeConfirmed, tg.SentAt.Add(2300*time.Millisecond), "arp"
	if err := f.store.UpdateWakeTarget(ctx, j.ID, tg); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.FinishWakeJob(ctx, j.ID, inventory.WakeJobDone); err != nil {
		t.Fatal(err)
	}
	want := "confirmed | 2.3 s | seen by arp | done"
	deadline := time.Now().Add(20 * time.Second)
	for got := state(); got != want; got = state() {
		if time.Now().After(deadline) {
			t.Fatalf("the page shows %q, want %q without a reload", got, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	// "Wake selected" on the devices list: the checkboxes belong to the
	// button's form through their form attribute; a page shows each
	// device's route before its button sends. These devices have no
	// route here, so nothing is sent.
	_, ds := seedWake(t, f)
	err = chromedp.Do(bctx,
		chromedp.Navigate(base+"/devices"),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[form="wake-selection"][value="%d"]`, ds[0].ID))),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[form="wake-selection"][value="%d"]`, ds[1].ID))),
		chromedp.Click(chromedp.CSS(`#wake-selection button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("table.wake-selection-routes")),
	)
	if err != nil {
		t.Fatalf("wake a selection: %v", err)
	}
	routes, err := chromedp.Run(bctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll("table.wake-selection-routes tbody td.wake-route"))
		.map(function (td) { return td.firstChild.textContent.trim(); }).join(" | ")`))
	if want := "no route"; err != nil || routes != want+" | "+want {
		t.Fatalf("the selection's routes read %q (%v)", routes, err)
	}
	err = chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS(`#wake-selection-confirm button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("table.wake-targets")),
	)
	if err != nil {
		t.Fatalf("confirm the selection: %v", err)
	}
	rows, err := chromedp.Run(bctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll("table.wake-targets tbody tr td:first-child a"))
		.map(function (a) { return a.textContent.trim(); }).join(" ")`))
	if err != nil || rows != "02:00:00:00:00:10 02:00:00:00:00:11" {
		t.Fatalf("job page of the selection lists %q (%v)", rows, err)
	}

	// Script errors and policy refusals fail; failed loads (there is no
	// favicon) do not.
	for _, m := range console {
		switch {
		case m.IsException(), strings.Contains(m.Text, "Content Security Policy"), strings.Contains(m.Text, "Refused to"):
			t.Errorf("browser console: %s (%s:%d)", m, m.URL, m.Line)
		case m.Type == chromedp.ConsoleError:
			t.Logf("browser console: %s (%s)", m, m.URL)
		}
	}
}
