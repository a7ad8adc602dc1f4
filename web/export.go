package web

import (
	"encoding/csv"
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/inventory/export"
)

// flushEvery is how many devices a download writes between flushes, so a
// large one streams rather than sitting in buffers.
const flushEvery = 500

// apiDevicesCSV streams every device matching the list's filters as CSV.
func (s *Server) apiDevicesCSV(c *gin.Context) {
	q, _, err := deviceQuery(c, 50)
	if err != nil {
		apiError(c, http.StatusBadRequest, err.Error())
		return
	}
	subnets, err := s.store.Subnets(c.Request.Context())
	if err != nil {
		s.storeError(c, err)
		return
	}
	cidr := make(map[int64]string, len(subnets))
	for _, sn := range subnets {
		cidr[sn.ID] = sn.CIDR
	}
	w := csv.NewWriter(c.Writer)
	started := func() {
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", `attachment; filename="lanscout-devices.csv"`)
		c.Status(http.StatusOK)
		_ = w.Write(export.CSVHeader)
	}
	n := 0
	err = s.store.EachDevice(c.Request.Context(), q, func(d inventory.Device) error {
		if n == 0 {
			started()
		}
		n++
		if err := w.Write(export.CSVRecord(d, cidr[d.SubnetID])); err != nil {
			return err
		}
		if n%flushEvery == 0 {
			w.Flush()
			c.Writer.Flush()
			return w.Error()
		}
		return nil
	})
	s.endDownload(c, n, err, func() {
		if n == 0 {
			started()
		}
		w.Flush()
	})
}

// apiDevicesJSON streams every device matching the list's filters as one
// JSON array of the list's items.
func (s *Server) apiDevicesJSON(c *gin.Context) {
	q, _, err := deviceQuery(c, 50)
	if err != nil {
		apiError(c, http.StatusBadRequest, err.Error())
		return
	}
	started := func() {
		c.Header("Content-Type", "application/json; charset=utf-8")
		c.Header("Content-Disposition", `attachment; filename="lanscout-devices.json"`)
		c.Status(http.StatusOK)
		_, _ = c.Writer.WriteString("[")
	}
	n := 0
	err = s.store.EachDevice(c.Request.Context(), q, func(d inventory.Device) error {
		b, err := json.Marshal(d)
		if err != nil {
			return err
		}
		if n == 0 {
			started()
		} else {
			_, _ = c.Writer.WriteString(",\n")
		}
		n++
		if _, err := c.Writer.Write(b); err != nil {
			return err
		}
		if n%flushEvery == 0 {
			c.Writer.Flush()
		}
		return nil
	})
	s.endDownload(c, n, err, func() {
		if n == 0 {
			started()
		}
		_, _ = c.Writer.WriteString("]\n")
	})
}

// endDownload finishes a streamed download. An error before the first
// device is answered as usual; after it, the status is gone, so the
// connection is cut rather than leaving a well-formed but partial file.
func (s *Server) endDownload(c *gin.Context, n int, err error, finish func()) {
	switch {
	case err == nil:
		finish()
	case n == 0:
		s.storeError(c, err)
	default:
		s.log.Error("download cut short", "path", c.Request.URL.Path, "devices", n, "err", err)
		panic(http.ErrAbortHandler)
	}
}
