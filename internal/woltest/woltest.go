// Package woltest is a Wake-on-LAN packet sink for tests: it listens
// inside a lab namespace for magic packets, raw (EtherType 0x0842) on one
// interface and UDP on some ports, and reports each it receives with the
// MAC it wakes. It only receives; nothing here sends.
package woltest

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/mdlayher/packet"

	"github.com/lanscout/lanscout/internal/lab"
	"github.com/lanscout/lanscout/wol"
)

// Packet is one magic packet received.
type Packet struct {
	Method   string // "raw" or "udp"
	MAC      string // the MAC it wakes
	Password []byte
	From     string // source MAC (raw) or address (udp)
	To       string // destination MAC (raw) or local port (udp)
}

// Sink collects magic packets. Its methods are safe for concurrent use.
type Sink struct {
	mu      sync.Mutex
	packets []Packet
	bad     []string
	notify  chan struct{}
	closers []func() error
	wg      sync.WaitGroup
}

// Listen starts a sink in namespace ns of l: a raw socket on ifname (none
// when ifname is "") and a UDP socket on each port, bound to every address
// so that broadcasts arrive. It is closed when t ends.
func Listen(t testing.TB, l *lab.Lab, ns, ifname string, ports ...int) *Sink {
	t.Helper()
	s := &Sink{notify: make(chan struct{}, 1)}
	var raw *packet.Conn
	var udps []*net.UDPConn
	err := l.Do(ns, func() error {
		if ifname != "" {
			ifi, err := net.InterfaceByName(ifname)
			if err != nil {
				return err
			}
			if raw, err = packet.Listen(ifi, packet.Raw, wol.EtherType, nil); err != nil {
				return fmt.Errorf("raw socket on %s: %w", ifname, err)
			}
		}
		for _, p := range ports {
			c, err := net.ListenUDP("udp4", &net.UDPAddr{Port: p})
			if err != nil {
				return fmt.Errorf("UDP port %d: %w", p, err)
			}
			udps = append(udps, c)
		}
		return nil
	})
	if err != nil {
		if raw != nil {
			raw.Close()
		}
		for _, c := range udps {
			c.Close()
		}
		t.Fatalf("woltest: listen in %s: %v", ns, err)
	}
	if raw != nil {
		s.closers = append(s.closers, raw.Close)
		s.wg.Go(func() { s.readRaw(raw) })
	}
	for _, c := range udps {
		s.closers = append(s.closers, c.Close)
		s.wg.Go(func() { s.readUDP(c) })
	}
	t.Cleanup(s.Close)
	return s
}

// Close stops listening.
func (s *Sink) Close() {
	s.mu.Lock()
	closers := s.closers
	s.closers = nil
	s.mu.Unlock()
	for _, c := range closers {
		_ = c()
	}
	s.wg.Wait()
}

func (s *Sink) add(p Packet) {
	s.mu.Lock()
	s.packets = append(s.packets, p)
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (s *Sink) readRaw(c *packet.Conn) {
	buf := make([]byte, 2048)
	for {
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			return
		}
		if n < 14 || buf[12] != 0x08 || buf[13] != 0x42 {
			continue
		}
		mac, pw, err := wol.ParseMagicPacket(trimPadding(buf[14:n]))
		if err != nil {
			s.mu.Lock()
			s.bad = append(s.bad, fmt.Sprintf("raw %x: %v", buf[:n], err))
			s.mu.Unlock()
			continue
		}
		s.add(Packet{Method: "raw", MAC: mac.String(), Password: pw,
			From: net.HardwareAddr(buf[6:12]).String(), To: net.HardwareAddr(buf[0:6]).String()})
	}
}

// trimPadding drops the zero bytes a short frame may be padded with (a
// magic packet is 102, 106 or 108 bytes; frames are at least 60).
func trimPadding(b []byte) []byte {
	for _, n := range []int{108, 106, 102} {
		if len(b) >= n {
			if _, _, err := wol.ParseMagicPacket(b[:n]); err == nil {
				return b[:n]
			}
		}
	}
	return b
}

func (s *Sink) readUDP(c *net.UDPConn) {
	buf := make([]byte, 2048)
	port := c.LocalAddr().(*net.UDPAddr).Port
	for {
		n, from, err := c.ReadFromUDP(buf)
		if err != nil {
			return
		}
		mac, pw, err := wol.ParseMagicPacket(buf[:n])
		if err != nil {
			s.mu.Lock()
			s.bad = append(s.bad, fmt.Sprintf("udp %x: %v", buf[:n], err))
			s.mu.Unlock()
			continue
		}
		s.add(Packet{Method: "udp", MAC: mac.String(), Password: pw, From: from.String(), To: fmt.Sprint(port)})
	}
}

// Packets returns what arrived so far.
func (s *Sink) Packets() []Packet {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Packet(nil), s.packets...)
}

// Bad returns what arrived with the Wake-on-LAN EtherType or on a sink port
// but was not a valid magic packet.
func (s *Sink) Bad() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bad...)
}

// Wait waits until ok holds for the packets received, or timeout passes.
func (s *Sink) Wait(timeout time.Duration, ok func([]Packet) bool) ([]Packet, error) {
	deadline := time.After(timeout)
	for {
		ps := s.Packets()
		if ok(ps) {
			return ps, nil
		}
		select {
		case <-s.notify:
		case <-deadline:
			return ps, errors.New("woltest: timed out waiting for magic packets")
		}
	}
}

// Has reports whether a packet for mac arrived by method ("" any).
func Has(ps []Packet, method, mac string) bool {
	for _, p := range ps {
		if p.MAC == mac && (method == "" || p.Method == method) {
			return true
		}
	}
	return false
}

// HasAll reports whether a packet for every MAC arrived by method.
func HasAll(ps []Packet, method string, macs ...string) bool {
	for _, m := range macs {
		if !Has(ps, method, m) {
			return false
		}
	}
	return true
}

// SendUntil calls send, then waits up to a second for ok to hold, and
// sends again until it does or timeout passes. Links of a lab built a
// moment ago can lose the first frames on a loaded machine; a magic packet
// is idempotent, so a test may repeat it, and what it asserts (the right
// packets arrive) stays the same.
func (s *Sink) SendUntil(timeout time.Duration, send func() error, ok func([]Packet) bool) ([]Packet, error) {
	deadline := time.Now().Add(timeout)
	for {
		if err := send(); err != nil {
			return s.Packets(), err
		}
		wait := min(time.Second, time.Until(deadline))
		ps, err := s.Wait(wait, ok)
		if err == nil || time.Now().After(deadline) {
			return ps, err
		}
	}
}
