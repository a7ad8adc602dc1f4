package scan_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lanscout/lanscout/scan"
)

func readGoldenStream(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "report.jsonl.golden"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReadStreamGolden: the golden stream reads back as the report it was
// written from, calling back once per device line.
func TestReadStreamGolden(t *testing.T) {
	var got []string
	rep, err := scan.ReadStream(bytes.NewReader(readGoldenStream(t)), func(d scan.Device) { got = append(got, d.IP) })
	if err != nil {
		t.Fatal(err)
	}
	if want := goldenReport(); !reflect.DeepEqual(rep, want) {
		t.Errorf("read back\n%+v\nwant\n%+v", rep, want)
	}
	if strings.Join(got, " ") != "192.0.2.1 192.0.2.20" {
		t.Errorf("callbacks for %v, want the two devices in stream order", got)
	}
}

// TestStreamWriterSendsLateDetails: a device streamed early and changed
// by the report (a reverse DNS name found later) is sent again before the
// summary; one streamed unchanged is not. The reader keeps the last line.
func TestStreamWriterSendsLateDetails(t *testing.T) {
	full := goldenReport()
	early := full.Devices[0]
	early.Hostnames = []string{}
	var buf bytes.Buffer
	sw := scan.NewStreamWriter(&buf)
	for _, d := range []scan.Device{early, full.Devices[1]} {
		if err := sw.Device(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Finish(full); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 4 || !strings.Contains(lines[2], "gw.example.net.") || !strings.HasPrefix(lines[3], `{"summary":`) ||
		!strings.Contains(lines[3], `"device_count":2`) {
		t.Fatalf("want 2 devices, the first again with its name, then the summary; got\n%s", buf.String())
	}
	if err := sw.Device(early); err == nil {
		t.Error("a device after the summary was accepted")
	}
	calls := 0
	rep, err := scan.ReadStream(&buf, func(scan.Device) { calls++ })
	if err != nil || calls != 3 || !reflect.DeepEqual(rep, full) {
		t.Errorf("read %d lines, %v:\n%+v\nwant\n%+v", calls, err, rep, full)
	}
}

// TestReadStreamDeliversBeforeSummary: ReadStream hands a device to the
// callback while its writer has not written the summary yet. The writer
// writes the summary only after the callback ran, so a reader that waited
// for the end could not finish at all (go test's -timeout then fails the
// test).
func TestReadStreamDeliversBeforeSummary(t *testing.T) {
	full := goldenReport()
	pr, pw := io.Pipe()
	delivered := make(chan string, 1)
	writeErr := make(chan error, 1)
	go func() {
		sw := scan.NewStreamWriter(pw)
		if err := sw.Device(full.Devices[0]); err != nil {
			writeErr <- err
			return
		}
		select {
		case <-delivered:
		case <-t.Context().Done():
			return
		}
		err := sw.Finish(full)
		pw.CloseWithError(err)
		writeErr <- err
	}()
	type result struct {
		rep *scan.Report
		err error
	}
	res := make(chan result, 1)
	signalled := false
	go func() {
		rep, err := scan.ReadStream(pr, func(d scan.Device) {
			if d.IP == full.Devices[0].IP && !signalled {
				signalled = true // from here on the writer may finish
				delivered <- d.IP
			}
		})
		res <- result{rep, err}
	}()
	r := <-res
	if err := <-writeErr; err != nil {
		t.Fatal(err)
	}
	if r.err != nil || len(r.rep.Devices) != 2 || r.rep.Incomplete {
		t.Fatalf("read %+v, %v", r.rep, r.err)
	}
}

// TestReadStreamCutAnywhere: a stream cut at any byte (the SSH connection
// dropped) keeps every device whose line arrived whole, says the report is
// incomplete, and the error wraps io.ErrUnexpectedEOF.
func TestReadStreamCutAnywhere(t *testing.T) {
	stream := readGoldenStream(t)
	lines := bytes.SplitAfter(stream, []byte("\n"))
	for cut := 0; cut < len(stream)-1; cut++ {
		prefix := stream[:cut]
		// A device line counts once its JSON is whole, newline or not.
		want := 0
		for i, l := range lines[:2] {
			end := 0
			for _, p := range lines[:i] {
				end += len(p)
			}
			if cut >= end+len(l)-1 {
				want++
			}
		}
		calls := 0
		rep, err := scan.ReadStream(bytes.NewReader(prefix), func(scan.Device) { calls++ })
		if !errors.Is(err, io.ErrUnexpectedEOF) || rep == nil || !rep.Incomplete || len(rep.Devices) != want || calls != want {
			t.Fatalf("cut at %d of %d: %d devices (%d calls), %v; want %d, incomplete and an unexpected EOF",
				cut, len(stream), len(rep.Devices), calls, err, want)
		}
	}
	// The summary without its final newline is whole.
	if _, err := scan.ReadStream(bytes.NewReader(stream[:len(stream)-1]), nil); err != nil {
		t.Errorf("summary without its newline: %v", err)
	}
}

// TestReadStreamRejectsGarbage: anything but device and summary lines is
// an error naming the line, not a truncation, and the devices before it
// are kept.
func TestReadStreamRejectsGarbage(t *testing.T) {
	stream := readGoldenStream(t)
	lines := strings.SplitAfter(string(stream), "\n")
	dev, summary := lines[0], lines[2]
	for _, tc := range []struct {
		name, in, want string
		devices        int
	}{
		{"text", dev + "hello world\n" + summary, "line 2: not a JSON object", 1},
		{"array", "[1,2]\n", "line 1: not a JSON object", 0},
		{"unknown type", dev + `{"progress":{"sent":3}}` + "\n", `line 2: unknown line type "progress"`, 1},
		{"two keys", `{"device":{"ip":"192.0.2.9"},"summary":{}}` + "\n", "line 1: want one key", 0},
		{"no keys", "{}\n", "line 1: want one key", 0},
		{"null device", `{"device":null}` + "\n", "line 1: device is null", 0},
		{"null summary", dev + `{"summary":null}` + "\n", "line 2: summary is null", 1},
		{"device without ip", dev + `{"device":{"mac":"00:11:22:33:44:55"}}` + "\n", `line 2: device: ip ""`, 1},
		{"bad ip", `{"device":{"ip":"192.0.2.300"}}` + "\n", "line 1: device: ip", 0},
		{"wrong field type", `{"device":{"ip":"192.0.2.9","rtt_ms":"fast"}}` + "\n", "line 1: device:", 0},
		{"count", dev + summary, "line 2: summary counts 2 devices, the stream had 1", 1},
		{"devices in summary", `{"summary":{"devices":[{"ip":"192.0.2.9"}],"device_count":0}}` + "\n", "line 1: summary:", 0},
		{"after summary", string(stream) + dev, "line 4: after the summary", 2},
		{"long line", dev + `{"device":{"ip":"192.0.2.9","reasons":["` + strings.Repeat("x", scan.MaxStreamLine) + `"]}}` + "\n", "line 2: longer than", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := scan.ReadStream(strings.NewReader(tc.in), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) || errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("error %v, want one with %q that is not a truncation", err, tc.want)
			}
			if rep == nil || len(rep.Devices) != tc.devices {
				t.Fatalf("report %+v, want %d devices kept", rep, tc.devices)
			}
		})
	}
}

// TestReadStreamBlankLines: blank lines carry nothing and are skipped;
// an empty stream is cut off before its summary.
func TestReadStreamBlankLines(t *testing.T) {
	stream := strings.ReplaceAll(string(readGoldenStream(t)), "\n", "\n\n")
	if rep, err := scan.ReadStream(strings.NewReader(stream), nil); err != nil || len(rep.Devices) != 2 {
		t.Errorf("blank lines: %+v %v", rep, err)
	}
	if rep, err := scan.ReadStream(strings.NewReader(""), nil); !errors.Is(err, io.ErrUnexpectedEOF) || rep.Devices == nil {
		t.Errorf("empty stream: %+v %v", rep, err)
	}
}

// FuzzReadStream: the server reads this format from satellites over the
// network. Whatever arrives, ReadStream returns a report; what it accepts
// has valid, distinct addresses, and writing it again reads back the same.
func FuzzReadStream(f *testing.F) {
	stream := readGoldenStream(f)
	f.Add(stream)
	f.Add(stream[:len(stream)/2])
	f.Add([]byte(`{"device":{"ip":"::ffff:10.0.0.1","hostnames":["a"]}}` + "\n" + `{"device":{"ip":"10.0.0.1"}}` + "\n" + `{"summary":{"device_count":2}}`))
	f.Add([]byte(`{"summary":{"started":"2026-01-02T03:04:05+01:00","device_count":0,"incomplete":true}}` + "\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		calls := 0
		rep, err := scan.ReadStream(bytes.NewReader(in), func(scan.Device) { calls++ })
		if rep == nil || rep.Devices == nil {
			t.Fatalf("nil report or devices: %+v %v", rep, err)
		}
		if calls < len(rep.Devices) {
			t.Fatalf("%d callbacks for %d devices", calls, len(rep.Devices))
		}
		if err != nil {
			if !rep.Incomplete && !strings.Contains(err.Error(), "after the summary") {
				t.Fatalf("error %v but the report is not incomplete", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, d := range rep.Devices {
			if seen[d.IP] {
				t.Fatalf("device %s twice", d.IP)
			}
			seen[d.IP] = true
		}
		var once bytes.Buffer
		if err := scan.WriteReport(&once, "jsonl", rep); err != nil {
			t.Fatal(err)
		}
		again, err := scan.ReadStream(bytes.NewReader(once.Bytes()), nil)
		if err != nil {
			t.Fatalf("own output rejected: %v\n%s", err, once.Bytes())
		}
		var twice bytes.Buffer
		if err := scan.WriteReport(&twice, "jsonl", again); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(once.Bytes(), twice.Bytes()) {
			t.Fatalf("not stable:\n%s\n%s", once.Bytes(), twice.Bytes())
		}
	})
}
