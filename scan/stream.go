package scan

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"net/netip"
	"sync"
)

// The "jsonl" format streams a scan: one JSON object per line, each with
// one key that names the line's type.
//
//	{"device":{...}}   a device, as soon as the scan identified it; a later
//	                   line with the same ip replaces it (late reverse DNS
//	                   names and replies come after a device was first seen)
//	{"summary":{...}}  the last line: the report without its devices, plus
//	                   device_count, the number of distinct ips sent
//
// A reader that got no summary knows the stream was cut off. A newer
// writer that needs another line type must use another format name:
// readers reject lines they do not know.

// MaxStreamLine bounds one line of a jsonl stream. A device with every
// SNMP string at its longest is a few KiB; the bound keeps a broken or
// hostile writer from making the reader buffer without end.
const MaxStreamLine = 1 << 20

// streamSummary is the summary line. The embedded Report supplies the
// field names, so the two formats cannot drift apart; Devices shadows the
// report's list (a shallower field wins in encoding/json) so that the
// summary never carries devices and a summary that does is rejected.
type streamSummary struct {
	*Report
	Devices     *struct{} `json:"devices,omitempty"`
	DeviceCount int       `json:"device_count"`
}

type deviceLine struct {
	Device *Device `json:"device"`
}

type summaryLine struct {
	Summary streamSummary `json:"summary"`
}

// StreamWriter writes the jsonl format while a scan runs: Device for each
// device as the pipeline identifies it (scan.Config.Device), then Finish
// with the report. It is safe for concurrent use. Each line goes to the
// underlying writer in one Write, so an unbuffered writer (a pipe, an SSH
// channel) delivers every device as soon as it is known.
type StreamWriter struct {
	mu   sync.Mutex
	w    io.Writer
	seed maphash.Seed
	sent map[string]uint64 // ip -> hash of the line sent for it
	done bool
	err  error
}

// NewStreamWriter returns a StreamWriter writing to w.
func NewStreamWriter(w io.Writer) *StreamWriter {
	return &StreamWriter{w: w, seed: maphash.MakeSeed(), sent: map[string]uint64{}}
}

// Device writes d as a device line. After an error, or after Finish, it
// writes nothing and returns that error (or an error saying it finished).
func (s *StreamWriter) Device(d Device) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return errors.New("write scan stream: device after the summary")
	}
	return s.device(&d, false)
}

// device writes d unless onlyChanged is set and the same line was sent
// for its ip already. It holds s.mu.
func (s *StreamWriter) device(d *Device, onlyChanged bool) error {
	if s.err != nil {
		return s.err
	}
	line, err := json.Marshal(deviceLine{Device: d})
	if err != nil {
		return fmt.Errorf("write scan stream: device %s: %w", d.IP, err)
	}
	h := maphash.Bytes(s.seed, line)
	if prev, ok := s.sent[d.IP]; ok && onlyChanged && prev == h {
		return nil
	}
	if err := s.writeLine(line); err != nil {
		return err
	}
	s.sent[d.IP] = h
	return nil
}

// writeLine writes one line of the stream; a failed write sticks, so
// nothing follows a line that may be half written. It holds s.mu.
func (s *StreamWriter) writeLine(line []byte) error {
	if _, err := s.w.Write(append(line, '\n')); err != nil {
		s.err = fmt.Errorf("write scan stream: %w", err)
		return s.err
	}
	return nil
}

// Finish writes the devices of r that differ from what was sent for their
// ip (or were not sent at all), then the summary line. The report is
// authoritative: it adds what arrived after a device was streamed.
func (s *StreamWriter) Finish(r *Report) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return errors.New("write scan stream: summary written twice")
	}
	s.done = true
	for i := range r.Devices {
		if err := s.device(&r.Devices[i], true); err != nil {
			return err
		}
	}
	if s.err != nil {
		return s.err
	}
	line, err := json.Marshal(summaryLine{Summary: streamSummary{Report: r, DeviceCount: len(s.sent)}})
	if err != nil {
		return fmt.Errorf("write scan stream: summary: %w", err)
	}
	return s.writeLine(line)
}

// writeJSONL is WriteReport's "jsonl": the whole report as one stream.
func writeJSONL(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	if err := NewStreamWriter(bw).Finish(r); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write scan stream: %w", err)
	}
	return nil
}

// ReadStream reads a jsonl stream from r, calling device (when not nil)
// for every device line as it arrives, and returns the report: the
// summary with the devices, one per ip (the last line sent for it), in
// address order.
//
// The report is never nil. When the stream ends before its summary (the
// connection dropped, the remote command died) the report has the devices
// that arrived and Incomplete set, and the error wraps
// io.ErrUnexpectedEOF. A line that is not a device or summary, a line
// after the summary, or a device count that does not match is an error
// naming the line; reading stops there, and the devices before it are
// kept in the report.
func ReadStream(r io.Reader, device func(Device)) (*Report, error) {
	rep := &Report{}
	index := map[string]int{} // ip -> position in rep.Devices
	summarized := false
	finish := func(err error) (*Report, error) {
		sortDevices(rep.Devices)
		if rep.Devices == nil {
			rep.Devices = []Device{}
		}
		if err != nil {
			if !summarized {
				rep.Incomplete = true
			}
			return rep, fmt.Errorf("read scan stream: %w", err)
		}
		return rep, nil
	}
	cut := func(n int, err error) (*Report, error) {
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("%w: %w", io.ErrUnexpectedEOF, err)
		}
		return finish(fmt.Errorf("cut off at line %d, after %d devices and before the summary: %w", n, len(rep.Devices), err))
	}

	br := bufio.NewReaderSize(r, 64<<10)
	var line []byte
	for n := 1; ; n++ {
		line = line[:0]
		var rerr error
		for {
			frag, err := br.ReadSlice('\n')
			if len(line)+len(frag) > MaxStreamLine {
				return finish(fmt.Errorf("line %d: longer than %d bytes", n, MaxStreamLine))
			}
			line = append(line, frag...)
			if !errors.Is(err, bufio.ErrBufferFull) {
				rerr = err
				break
			}
		}
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			if summarized {
				return finish(fmt.Errorf("line %d: after the summary: %w", n, rerr))
			}
			return cut(n, rerr)
		}
		text := bytes.TrimSpace(line)
		if len(text) == 0 {
			if rerr != nil { // io.EOF: the stream's end
				if !summarized {
					return cut(n, io.ErrUnexpectedEOF)
				}
				return finish(nil)
			}
			continue
		}
		if summarized {
			return finish(fmt.Errorf("line %d: after the summary", n))
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(text, &obj); err != nil {
			if rerr != nil {
				// The last line stopped short of its newline: what a
				// dropped connection leaves, not garbage.
				return cut(n, io.ErrUnexpectedEOF)
			}
			return finish(fmt.Errorf("line %d: not a JSON object: %w", n, err))
		}
		if len(obj) != 1 {
			return finish(fmt.Errorf("line %d: want one key, device or summary; got %d", n, len(obj)))
		}
		var kind string
		var value json.RawMessage
		for kind, value = range obj {
		}
		if bytes.Equal(value, []byte("null")) {
			return finish(fmt.Errorf("line %d: %s is null", n, kind))
		}
		switch kind {
		case "device":
			var d Device
			if err := json.Unmarshal(value, &d); err != nil {
				return finish(fmt.Errorf("line %d: device: %w", n, err))
			}
			addr, err := netip.ParseAddr(d.IP)
			if err != nil {
				return finish(fmt.Errorf("line %d: device: ip %q: %w", n, d.IP, err))
			}
			d.IP = addr.String()
			if i, ok := index[d.IP]; ok {
				rep.Devices[i] = d
			} else {
				index[d.IP] = len(rep.Devices)
				rep.Devices = append(rep.Devices, d)
			}
			if device != nil {
				device(d)
			}
		case "summary":
			devices := rep.Devices
			sum := streamSummary{Report: &Report{}}
			if err := json.Unmarshal(value, &sum); err != nil {
				return finish(fmt.Errorf("line %d: summary: %w", n, err))
			}
			if sum.Devices != nil {
				return finish(fmt.Errorf("line %d: summary: carries devices", n))
			}
			if sum.DeviceCount != len(devices) {
				return finish(fmt.Errorf("line %d: summary counts %d devices, the stream had %d", n, sum.DeviceCount, len(devices)))
			}
			*rep = *sum.Report
			rep.Devices = devices
			summarized = true
		default:
			return finish(fmt.Errorf("line %d: unknown line type %q (want device or summary)", n, kind))
		}
		if rerr != nil { // io.EOF right after this line
			if !summarized {
				return cut(n, io.ErrUnexpectedEOF)
			}
			return finish(nil)
		}
	}
}
