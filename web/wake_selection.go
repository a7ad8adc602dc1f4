package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/lanscout/lanscout/inventory"
)

// "Wake selected" on the devices list asks first: the selection comes
// here (a GET, nothing is sent), which shows the route each device would
// take now, chosen by planWake as POST /wake chooses it, and a button
// that posts the same devices to /wake. Plain forms: no script needed.

func init() { pageTitles["wake_selection.html"] = "Wake selected devices" }

type wakeSelectionData struct {
	Routes  []wakeRouteView
	Devices []int64
	// NoRoute counts the devices nothing would reach; Fallback is the
	// configured fallback the request may ask for ("" when none).
	NoRoute  int
	Fallback WakeFallback
	Back     string
}

// wakeSelectionPage answers GET /wake/confirm?device=ID&device=ID...
func (s *Server) wakeSelectionPage(c *gin.Context) {
	ids, err := parseIDs(c.QueryArray("device"), "device")
	if err != nil {
		s.renderWake(c, http.StatusBadRequest, wakeFormData{}, "", err.Error())
		return
	}
	if len(ids) == 0 {
		s.renderWake(c, http.StatusBadRequest, wakeFormData{}, "", "Choose devices to wake: tick them in the devices list.")
		return
	}
	routes, err := s.previewWake(c.Request.Context(), wakeInput{DeviceIDs: ids})
	if err != nil {
		if errors.Is(err, errWakeInvalid) {
			s.renderWake(c, http.StatusBadRequest, wakeFormData{}, "", strings.TrimPrefix(err.Error(), errWakeInvalid.Error()+": "))
			return
		}
		s.pageError(c, err)
		return
	}
	d := wakeSelectionData{Routes: routes, Back: "/devices"}
	// Back to the list as it was (filters, page) when the browser says it
	// came from this server's devices list.
	if ref, err := url.Parse(c.Request.Referer()); err == nil && ref.Host == c.Request.Host && ref.Path == "/devices" {
		d.Back = ref.RequestURI()
	}
	for _, r := range routes {
		if r.DeviceID != 0 {
			d.Devices = append(d.Devices, r.DeviceID)
		}
		switch r.Route {
		case inventory.WakeRouteLocal, inventory.WakeRouteAgent, inventory.WakeRouteSatellite:
		default:
			d.NoRoute++
			if r.FallbackOffer != "" {
				d.Fallback = r.FallbackOffer
			}
		}
	}
	s.render(c, http.StatusOK, "wake_selection.html", d)
}
