package protocol

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// ErrTooLarge is returned when a body exceeds MaxBodyBytes as sent or
// MaxDecodedBytes once decompressed.
var ErrTooLarge = errors.New("body too large")

// ErrMalformed wraps every reason a body is refused other than its size.
var ErrMalformed = errors.New("malformed body")

// Encode returns v as gzip-compressed JSON, the form results are
// uploaded in (Content-Encoding: gzip).
func Encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	// A gzip writer costs about a megabyte to set up; agents encode a
	// body every few seconds, the benchmark thousands a second.
	zw, _ := gzipWriters.Get().(*gzip.Writer)
	if zw == nil {
		zw = gzip.NewWriter(&buf)
	} else {
		zw.Reset(&buf)
	}
	defer gzipWriters.Put(zw)
	if err := json.NewEncoder(zw).Encode(v); err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress %T: %w", v, err)
	}
	return buf.Bytes(), nil
}

// gzipWriters are reusable gzip writers: a cache, no state between uses
// (Reset starts a fresh stream).
var gzipWriters sync.Pool

// Decode reads one JSON document from body into v. encoding is the
// request's Content-Encoding: "gzip" or "" (identity). The body as sent
// may be at most MaxBodyBytes, decompressed at most MaxDecodedBytes;
// trailing data after the document is refused. Errors wrap ErrTooLarge or
// ErrMalformed so a server can answer 413 or 400.
func Decode(body io.Reader, encoding string, v any) error {
	raw := &limitReader{r: body, n: MaxBodyBytes}
	var r io.Reader = raw
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(raw)
		if err != nil {
			if raw.over {
				return ErrTooLarge
			}
			return fmt.Errorf("%w: gzip: %w", ErrMalformed, err)
		}
		defer zr.Close()
		r = zr
	default:
		return fmt.Errorf("%w: content encoding %q (want gzip or none)", ErrMalformed, encoding)
	}
	dec := &limitReader{r: r, n: MaxDecodedBytes}
	d := json.NewDecoder(dec)
	if err := d.Decode(v); err != nil {
		if raw.over || dec.over {
			return ErrTooLarge
		}
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	// One document and nothing after it: a body with two results, or
	// garbage after one, is not half accepted.
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		if raw.over || dec.over {
			return ErrTooLarge
		}
		return fmt.Errorf("%w: data after the JSON document", ErrMalformed)
	}
	// Reading to the end checks the gzip trailer (its CRC): a corrupted
	// stream is refused even when its JSON happened to parse.
	if _, err := io.Copy(io.Discard, dec); err != nil {
		if raw.over || dec.over {
			return ErrTooLarge
		}
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if raw.over || dec.over {
		return ErrTooLarge
	}
	return nil
}

// limitReader reads at most n bytes and notes whether there were more.
type limitReader struct {
	r    io.Reader
	n    int64
	over bool
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		// Probe one byte: exactly n bytes is fine, n+1 is too many.
		var one [1]byte
		k, err := l.r.Read(one[:])
		if k > 0 {
			l.over = true
			return 0, ErrTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	k, err := l.r.Read(p)
	l.n -= int64(k)
	return k, err
}

// maxID bounds task ids as the server makes them (32 hex digits), with
// room to spare.
const maxID = 64

// Validate checks a result before anything of it is stored: ids, batch
// numbers, that the part matching the task kind is there and that every
// device has a usable address.
func (r *TaskResult) Validate(kind TaskKind) error {
	if r.TaskID == "" || len(r.TaskID) > maxID {
		return fmt.Errorf("%w: task id missing or too long", ErrMalformed)
	}
	if r.Batch < 0 {
		return fmt.Errorf("%w: batch %d", ErrMalformed, r.Batch)
	}
	if len(r.Error) > 4096 {
		r.Error = r.Error[:4096]
	}
	parts := 0
	for _, set := range []bool{r.Wake != nil, r.Scan != nil, r.Listen != nil} {
		if set {
			parts++
		}
	}
	if parts > 1 {
		return fmt.Errorf("%w: a result carries one of wake, scan and listen", ErrMalformed)
	}
	switch kind {
	case TaskWake:
		if r.Scan != nil || r.Listen != nil {
			return fmt.Errorf("%w: a wake task's result carries a scan or listen part", ErrMalformed)
		}
		if !r.Final || r.Batch != 0 {
			return fmt.Errorf("%w: a wake result is one final batch 0", ErrMalformed)
		}
		if r.Wake == nil && r.Error == "" {
			return fmt.Errorf("%w: wake result with neither packets nor error", ErrMalformed)
		}
		if r.Wake != nil {
			for _, s := range r.Wake.Sent {
				if _, err := net.ParseMAC(s.MAC); err != nil {
					return fmt.Errorf("%w: wake result: MAC %q", ErrMalformed, s.MAC)
				}
			}
		}
	case TaskScan:
		if r.Wake != nil || r.Listen != nil {
			return fmt.Errorf("%w: a scan task's result carries a wake or listen part", ErrMalformed)
		}
		if r.Scan == nil {
			if r.Error == "" {
				return fmt.Errorf("%w: scan result with no scan part and no error", ErrMalformed)
			}
			return nil
		}
		if len(r.Scan.Devices) > MaxBatchDevices {
			return fmt.Errorf("%w: %d devices in one batch, at most %d", ErrTooLarge, len(r.Scan.Devices), MaxBatchDevices)
		}
		for i, d := range r.Scan.Devices {
			if _, err := netip.ParseAddr(d.IP); err != nil {
				return fmt.Errorf("%w: device %d: address %q", ErrMalformed, i, d.IP)
			}
			if d.MAC != "" {
				if _, err := net.ParseMAC(d.MAC); err != nil {
					return fmt.Errorf("%w: device %d (%s): MAC %q", ErrMalformed, i, d.IP, d.MAC)
				}
			}
		}
		if r.Scan.Summary != nil && !r.Final {
			return fmt.Errorf("%w: a scan summary comes with the final batch", ErrMalformed)
		}
	case TaskListen:
		if r.Wake != nil || r.Scan != nil {
			return fmt.Errorf("%w: a listen task's result carries a wake or scan part", ErrMalformed)
		}
		if r.Listen != nil {
			if len(r.Listen.Heard) > MaxBatchDevices {
				return fmt.Errorf("%w: %d MACs in one batch, at most %d", ErrTooLarge, len(r.Listen.Heard), MaxBatchDevices)
			}
			for i, h := range r.Listen.Heard {
				if _, err := net.ParseMAC(h.MAC); err != nil {
					return fmt.Errorf("%w: heard %d: MAC %q", ErrMalformed, i, h.MAC)
				}
				if h.IP != "" {
					if _, err := netip.ParseAddr(h.IP); err != nil {
						return fmt.Errorf("%w: heard %d: address %q", ErrMalformed, i, h.IP)
					}
				}
			}
		}
	default:
		return fmt.Errorf("%w: unknown task kind %q", ErrMalformed, kind)
	}
	if r.Finished.IsZero() && r.Final {
		r.Finished = time.Now()
	}
	return nil
}
