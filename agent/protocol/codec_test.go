package protocol

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/scan"
)

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func TestDecode(t *testing.T) {
	good := []byte(`{"task_id":"abc","batch":0,"final":true,"finished":"2026-11-22T06:00:00Z"}`)
	corrupt := gz(t, good)
	corrupt[len(corrupt)-6] ^= 0xff // the CRC
	bomb := gz(t, append(append([]byte(`{"task_id":"`), bytes.Repeat([]byte("a"), MaxDecodedBytes+10)...), []byte(`"}`)...))
	cases := []struct {
		name     string
		body     []byte
		encoding string
		want     error
	}{
		{"plain", good, "", nil},
		{"gzip", gz(t, good), "gzip", nil},
		{"gzip, upper case", gz(t, good), "GZIP", nil},
		{"gzip header, plain body", good, "gzip", ErrMalformed},
		{"unknown encoding", good, "br", ErrMalformed},
		{"not JSON", []byte("hello"), "", ErrMalformed},
		{"two documents", append(append([]byte{}, good...), good...), "", ErrMalformed},
		{"trailing garbage", append(append([]byte{}, good...), 'x'), "", ErrMalformed},
		{"empty", nil, "", ErrMalformed},
		{"corrupted gzip", corrupt, "gzip", ErrMalformed},
		{"too large as sent", append(append([]byte(`{"task_id":"`), bytes.Repeat([]byte("a"), MaxBodyBytes)...), []byte(`"}`)...), "", ErrTooLarge},
		{"gzip bomb", bomb, "gzip", ErrTooLarge},
		{"wrong type", []byte(`{"task_id":5}`), "", ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r TaskResult
			err := Decode(bytes.NewReader(c.body), c.encoding, &r)
			if c.want == nil {
				if err != nil || r.TaskID != "abc" || !r.Final {
					t.Fatalf("Decode = %+v, %v", r, err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("Decode: err %v, want %v", err, c.want)
			}
		})
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	in := TaskResult{TaskID: "t1", Batch: 2, Final: true, Finished: time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC),
		Scan: &ScanResult{Devices: []Device{{Device: scan.Device{IP: "10.0.0.1", MAC: "02:00:00:00:00:01"}}},
			Summary: &ScanSummary{Method: "arp", Warnings: []string{}}}}
	b, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	var out TaskResult
	if err := Decode(bytes.NewReader(b), "gzip", &out); err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(in)
	z, _ := json.Marshal(out)
	if !bytes.Equal(a, z) {
		t.Errorf("round trip:\n got %s\nwant %s", z, a)
	}
}

func TestValidate(t *testing.T) {
	dev := func(ip, mac string) Device { return Device{Device: scan.Device{IP: ip, MAC: mac}} }
	many := make([]Device, MaxBatchDevices+1)
	for i := range many {
		many[i] = dev("10.0.0.1", "")
	}
	cases := []struct {
		name string
		kind TaskKind
		r    TaskResult
		want error
	}{
		{"scan batch", TaskScan, TaskResult{TaskID: "t", Batch: 1, Scan: &ScanResult{Devices: []Device{dev("10.0.0.1", "02:00:00:00:00:01")}}}, nil},
		{"scan failed", TaskScan, TaskResult{TaskID: "t", Final: true, Error: "no raw socket"}, nil},
		{"scan, nothing", TaskScan, TaskResult{TaskID: "t", Final: true}, ErrMalformed},
		{"no task id", TaskScan, TaskResult{Error: "x"}, ErrMalformed},
		{"negative batch", TaskScan, TaskResult{TaskID: "t", Batch: -1, Error: "x"}, ErrMalformed},
		{"bad address", TaskScan, TaskResult{TaskID: "t", Scan: &ScanResult{Devices: []Device{dev("10.0.0.300", "")}}}, ErrMalformed},
		{"bad MAC", TaskScan, TaskResult{TaskID: "t", Scan: &ScanResult{Devices: []Device{dev("10.0.0.3", "zz")}}}, ErrMalformed},
		{"too many devices", TaskScan, TaskResult{TaskID: "t", Scan: &ScanResult{Devices: many}}, ErrTooLarge},
		{"summary before the end", TaskScan, TaskResult{TaskID: "t", Scan: &ScanResult{Summary: &ScanSummary{}}}, ErrMalformed},
		{"wake part on a scan", TaskScan, TaskResult{TaskID: "t", Wake: &WakeResult{}}, ErrMalformed},
		{"wake", TaskWake, TaskResult{TaskID: "t", Final: true, Wake: &WakeResult{Sent: []WakeSent{{MAC: "02:00:00:00:00:01", Method: "udp"}}}}, nil},
		{"wake in two batches", TaskWake, TaskResult{TaskID: "t", Batch: 1, Final: true, Wake: &WakeResult{}}, ErrMalformed},
		{"wake bad MAC", TaskWake, TaskResult{TaskID: "t", Final: true, Wake: &WakeResult{Sent: []WakeSent{{MAC: "nope"}}}}, ErrMalformed},
		{"listen", TaskListen, TaskResult{TaskID: "t", Final: true, Listen: &ListenResult{Heard: []Heard{{MAC: "02:00:00:00:00:09", IP: "10.0.0.9"}}}}, nil},
		{"listen bad IP", TaskListen, TaskResult{TaskID: "t", Listen: &ListenResult{Heard: []Heard{{MAC: "02:00:00:00:00:09", IP: "x"}}}}, ErrMalformed},
		{"unknown kind", "dance", TaskResult{TaskID: "t", Final: true}, ErrMalformed},
		{"two parts", TaskScan, TaskResult{TaskID: "t", Scan: &ScanResult{}, Listen: &ListenResult{}}, ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.r.Validate(c.kind)
			if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Fatalf("Validate: %v, want %v", err, c.want)
			}
		})
	}
}

func TestCredentialRoundTrip(t *testing.T) {
	w := SNMPCredential{Name: "v3", Version: "3", User: "u", Auth: "SHA", AuthPass: "authpass1", Priv: "AES", PrivPass: "privpass1"}
	c, err := w.Credential()
	if err != nil {
		t.Fatal(err)
	}
	if back := WireCredential(c); back != w {
		t.Errorf("round trip: %+v, want %+v", back, w)
	}
	if _, err := (SNMPCredential{Name: "x", Version: "4"}).Credential(); err == nil || !strings.Contains(err.Error(), "version") {
		t.Errorf("bad version: %v", err)
	}
}

// FuzzDecodeResult feeds arbitrary bodies, plain and gzip, to the decoder
// and the validation the server runs before storing anything: they must
// refuse or accept without panicking, and whatever they accept must
// encode again.
func FuzzDecodeResult(f *testing.F) {
	f.Add([]byte(`{"task_id":"a","final":true,"error":"x"}`), false)
	f.Add([]byte(`{"task_id":"a","scan":{"devices":[{"ip":"10.0.0.1","mac":"02:00:00:00:00:01","evidence":{"Vars":{}}}]}}`), true)
	f.Add([]byte(`{"task_id":"a","final":true,"wake":{"sent":[{"mac":"02:00:00:00:00:01"}]}}`), false)
	f.Add([]byte(`{"task_id":"a","listen":{"heard":[{"mac":"02:00:00:00:00:01","ip":"::1"}]}}`), true)
	f.Fuzz(func(t *testing.T, body []byte, compress bool) {
		enc := ""
		if compress {
			body, enc = gz(t, body), "gzip"
		}
		var r TaskResult
		if err := Decode(bytes.NewReader(body), enc, &r); err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Decode error %v wraps neither ErrMalformed nor ErrTooLarge", err)
			}
			return
		}
		for _, k := range []TaskKind{TaskScan, TaskWake, TaskListen} {
			r2 := r
			if err := r2.Validate(k); err != nil {
				if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
					t.Fatalf("Validate error %v wraps neither ErrMalformed nor ErrTooLarge", err)
				}
				continue
			}
			if _, err := Encode(r2); err != nil {
				t.Fatalf("accepted result does not encode: %v", err)
			}
		}
	})
}
