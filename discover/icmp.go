package discover

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
)

// icmpConn is what the ICMP sweep needs from an *icmp.PacketConn.
type icmpConn interface {
	ReadFrom(b []byte) (int, net.Addr, error)
	WriteTo(b []byte, dst net.Addr) (int, error)
	SetReadDeadline(t time.Time) error
}

// openICMP opens a raw ICMP socket, or failing that an unprivileged ping
// socket. raw reports which. It runs on the caller's goroutine so the
// socket belongs to the caller's network namespace.
func openICMP() (c *icmp.PacketConn, raw bool, err error) {
	c, rawErr := icmp.ListenPacket("ip4:icmp", "0.0.0.0")
	if rawErr == nil {
		return c, true, nil
	}
	c, dgramErr := icmp.ListenPacket("udp4", "0.0.0.0")
	if dgramErr == nil {
		return c, false, nil
	}
	if errors.Is(rawErr, os.ErrPermission) {
		return nil, false, &PrivilegeError{
			Op: "icmp sweep", Needs: "CAP_NET_RAW",
			Hint: `or allow unprivileged ping sockets for the service's group with "sysctl -w net.ipv4.ping_group_range='0 2147483647'"`,
			Err:  fmt.Errorf("raw socket: %w; ping socket: %w", rawErr, dgramErr),
		}
	}
	return nil, false, fmt.Errorf("icmp sweep: open socket: %w", rawErr)
}

// icmpPayloadLen is the echo data: an 8-byte token unique to the sweep,
// then the index of the target address. The token tells our replies from
// other pingers' on a raw socket, which sees every echo reply the host gets.
const icmpPayloadLen = 12

type icmpSweep struct {
	conn  icmpConn
	raw   bool // raw socket: the echo ID is ours; ping sockets rewrite it
	id    int
	token [8]byte
	eng   *passEngine
	col   *collector

	sendErrors atomic.Int64
	lastErr    atomic.Value // error
}

func newICMPSweep(conn icmpConn, raw bool, eng *passEngine, col *collector) *icmpSweep {
	s := &icmpSweep{conn: conn, raw: raw, eng: eng, col: col}
	_, _ = rand.Read(s.token[:])
	s.id = int(binary.BigEndian.Uint16(s.token[:2]))
	return s
}

func (s *icmpSweep) send(ctx context.Context, i int) error {
	data := make([]byte, icmpPayloadLen)
	copy(data, s.token[:])
	binary.BigEndian.PutUint32(data[8:], uint32(i))
	m := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: s.id, Seq: i & 0xffff, Data: data}}
	b, err := m.Marshal(nil)
	if err != nil {
		return fmt.Errorf("icmp sweep: marshal: %w", err)
	}
	ip := net.IP(addrOf(s.eng.addrs[i]).AsSlice())
	var dst net.Addr = &net.IPAddr{IP: ip}
	if !s.raw {
		dst = &net.UDPAddr{IP: ip}
	}
	for attempt := 0; ; attempt++ {
		_, err = s.conn.WriteTo(b, dst)
		if err == nil {
			return nil
		}
		if errors.Is(err, syscall.ENOBUFS) && attempt < 3 {
			if err := sleep(ctx, s.eng.clock, time.Millisecond); err != nil {
				return err
			}
			continue
		}
		if errors.Is(err, net.ErrClosed) {
			return fmt.Errorf("icmp sweep: send: %w", err)
		}
		// Unreachable networks, broadcast addresses, firewall rejects:
		// this address cannot be pinged, the others still can.
		s.sendErrors.Add(1)
		s.lastErr.Store(err)
		return nil
	}
}

func (s *icmpSweep) run(ctx context.Context) error {
	s.eng.send = s.send
	// An echo request to a host that answered costs no more than any
	// other, so a loss probe is a plain probe.
	s.eng.confirm = s.send
	return s.eng.runWithReader(ctx, "icmp sweep", s.read, func() { _ = s.conn.SetReadDeadline(time.Unix(1, 0)) })
}

func (s *icmpSweep) read(stopped *atomic.Bool) error {
	buf := make([]byte, 1500)
	for {
		n, from, err := s.conn.ReadFrom(buf)
		now := s.eng.clock.Now()
		if err != nil {
			if stopped.Load() {
				return nil
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			return err
		}
		src, i, ok := s.match(buf[:n], from)
		if !ok {
			continue
		}
		rtt, _ := s.eng.reply(i, now)
		s.col.seen(src, "icmp", nil, rtt, "")
	}
}

// match checks that b is an echo reply to one of our probes from the
// address it was sent to, and returns that address's index.
func (s *icmpSweep) match(b []byte, from net.Addr) (netip.Addr, int, bool) {
	m, err := icmp.ParseMessage(1, b)
	if err != nil || m.Type != ipv4.ICMPTypeEchoReply {
		return netip.Addr{}, 0, false
	}
	e, ok := m.Body.(*icmp.Echo)
	if !ok || len(e.Data) < icmpPayloadLen || string(e.Data[:8]) != string(s.token[:]) {
		return netip.Addr{}, 0, false
	}
	if s.raw && e.ID != s.id {
		return netip.Addr{}, 0, false
	}
	i := int(binary.BigEndian.Uint32(e.Data[8:12]))
	if i < 0 || i >= len(s.eng.addrs) {
		return netip.Addr{}, 0, false
	}
	var ip net.IP
	switch a := from.(type) {
	case *net.IPAddr:
		ip = a.IP
	case *net.UDPAddr:
		ip = a.IP
	}
	src, ok := netip.AddrFromSlice(ip)
	if !ok || src.Unmap() != addrOf(s.eng.addrs[i]) {
		return netip.Addr{}, 0, false
	}
	return src.Unmap(), i, true
}
