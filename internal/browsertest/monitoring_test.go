package browsertest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestMonitoringPage walks the Monitoring page as an admin: the export
// links, a webhook added through the form with a secret and an event
// ticked, a test delivery sent with "Send test" and seen delivered in the
// log. Screenshots: monitoring-*.png.
func TestMonitoringPage(t *testing.T) {
	chromium := findChromium(t)
	shots := screenshotDir(t)
	var mu sync.Mutex
	var got []*http.Request
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		got = append(got, r)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	base := startServer(t, map[string]string{"LANSCOUT_ADMIN_PASSWORD": adminPassword})
	b := newBrowser(t, chromium, base, shots)

	b.do(chromedp.Navigate(base + "/login"))
	b.login("admin", adminPassword)
	b.waitPath("/")
	b.click(`nav a[href="/monitoring"]`)
	b.waitPath("/monitoring")
	b.waitJS(`document.querySelector('h1').textContent === 'Monitoring'`)
	for _, href := range []string{"/api/v1/export/prometheus", "/api/v1/export/icinga2", "/api/v1/export/nagios", "/api/v1/devices.csv"} {
		if !b.evalBool(`document.querySelector('a[href="` + href + `"]') !== null`) {
			t.Errorf("no link to %s", href)
		}
	}
	b.shot("monitoring-01-empty")

	b.do(chromedp.SendKeys(chromedp.CSS("#wh-name"), "chat"),
		chromedp.SendKeys(chromedp.CSS("#wh-url"), recv.URL+"/hook"),
		chromedp.SendKeys(chromedp.CSS("#wh-secret"), "a browser secret"))
	b.click(`input[name=events][value=new_device]`)
	b.click(`form[action="/monitoring/webhooks"] button[type=submit]`)
	b.waitJS(`document.querySelector('.notice') && document.querySelector('.notice').textContent.includes('Webhook created')`)
	if b.evalBool(`document.body.innerText.includes('a browser secret')`) {
		t.Error("the page shows the webhook's secret")
	}
	b.click(`form[action$="/test"] button`)
	b.waitJS(`document.querySelector('.notice') && document.querySelector('.notice').textContent.includes('Test delivery queued')`)
	// The log fills in once the delivery is sent; reload until it does.
	b.waitJS(`(() => { if (document.querySelector('.delivery-delivered')) { return true; } location.reload(); return false; })()`)
	b.shot("monitoring-02-webhook-delivered")
	mu.Lock()
	n := len(got)
	mu.Unlock()
	if n != 1 {
		t.Errorf("the receiver got %d requests, want 1", n)
	} else if sig := got[0].Header.Get("X-Lanscout-Signature"); !strings.HasPrefix(sig, "t=") || !strings.Contains(sig, ",v1=") {
		t.Errorf("signature header %q", sig)
	}
	b.checkConsole()
}
