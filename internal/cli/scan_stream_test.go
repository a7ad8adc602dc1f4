package cli

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/lanscout/lanscout/scan"
)

// TestScanJSONLStreams: `lanscout scan --format jsonl` writes each device
// while the scan still runs. The first write blocks until the test has
// cancelled the scan: a device written during the scan makes the report
// incomplete (exit 130, summary "incomplete"); one written only after the
// scan ended would leave it complete.
func TestScanJSONLStreams(t *testing.T) {
	t.Setenv("LANSCOUT_STATE", t.TempDir())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	args := []string{"scan", "--method", "tcp", "--ports", port, "--no-dns", "--no-snmp", "--format", "jsonl", "127.0.0.1"}

	// Undisturbed, the stream is the devices then a complete summary.
	stdout, stderr, code := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	rep, err := scan.ReadStream(strings.NewReader(stdout), nil)
	if err != nil || rep.Incomplete || len(rep.Devices) != 1 || rep.Devices[0].IP != "127.0.0.1" {
		t.Fatalf("read %+v, %v from\n%s", rep, err, stdout)
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := &firstWriteGate{reached: make(chan struct{}), release: make(chan struct{})}
	var errOut bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- Run(ctx, args, strings.NewReader(""), out, &errOut) }()
	<-out.reached
	cancel()
	close(out.release)
	code = <-done
	rep, err = scan.ReadStream(bytes.NewReader(out.bytes()), nil)
	if code != 130 || err != nil || !rep.Incomplete || len(rep.Devices) != 1 {
		t.Fatalf("cancelled during the first write: exit %d, %+v, %v\n%s\n%s", code, rep, err, out.bytes(), errOut.String())
	}
	if first, _, _ := strings.Cut(string(out.bytes()), "\n"); !strings.HasPrefix(first, `{"device":{"ip":"127.0.0.1"`) {
		t.Errorf("first line %s, want the device", first)
	}
}

// firstWriteGate holds its first Write until release is closed.
type firstWriteGate struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	once    sync.Once
	reached chan struct{}
	release chan struct{}
}

func (g *firstWriteGate) Write(p []byte) (int, error) {
	g.once.Do(func() {
		close(g.reached)
		<-g.release
	})
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.buf.Write(p)
}

func (g *firstWriteGate) bytes() []byte {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.buf.Bytes()
}
