package discover

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/packet"
	"golang.org/x/net/bpf"
)

// arpConn is what the ARP sweep needs from an *arp.Client; tests hand it
// a client built on a fake net.PacketConn.
type arpConn interface {
	Read() (*arp.Packet, *ethernet.Frame, error)
	WriteTo(p *arp.Packet, addr net.HardwareAddr) error
	SetReadDeadline(t time.Time) error
}

// arpReplyFilter passes ARP replies only, so the kernel does not wake us
// for every request on a busy segment (verified filter, LIBRARIES.md 1.2).
func arpReplyFilter() []bpf.RawInstruction {
	f, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 20, Size: 2}, // ARP opcode: 14 B Ethernet + 6
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(arp.OperationReply), SkipFalse: 1},
		bpf.RetConstant{Val: 0xffff},
		bpf.RetConstant{Val: 0},
	})
	if err != nil {
		panic(err) // a constant program
	}
	return f
}

// arpSocketBuffer is the receive buffer asked for: a /16 at full rate can
// return thousands of replies while the reader is descheduled.
const arpSocketBuffer = 4 << 20

// openARP opens the ARP socket on ifi. It runs on the caller's goroutine
// so the socket belongs to the caller's network namespace.
func openARP(ifi *net.Interface) (*arp.Client, *packet.Conn, error) {
	pc, err := packet.Listen(ifi, packet.Raw, int(ethernet.EtherTypeARP), &packet.Config{Filter: arpReplyFilter()})
	if err != nil {
		return nil, nil, needRaw("arp sweep on "+ifi.Name, err)
	}
	if rc, err := pc.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { setReceiveBuffer(fd, arpSocketBuffer) })
	}
	// Reading the statistics resets them: start counting drops from here.
	_, _ = pc.Stats()
	c, err := arp.New(ifi, pc)
	if err != nil {
		pc.Close()
		return nil, nil, fmt.Errorf("arp client on %s: %w", ifi.Name, err)
	}
	return c, pc, nil
}

// arpSweep sweeps one link's addresses with ARP requests.
type arpSweep struct {
	job   *arpJob
	conn  arpConn
	hw    net.HardwareAddr
	eng   *passEngine
	col   *collector
	log   *slog.Logger
	iface string

	sendErrors atomic.Int64

	// stats reads the socket's kernel counters (nil in tests with a fake
	// connection); reading resets them, so drops accumulates.
	stats interface {
		Stats() (*packet.Stats, error)
	}
	drops atomic.Uint64
}

// kernelDrops returns how many replies the kernel dropped on the socket
// so far because the reader fell behind.
func (s *arpSweep) kernelDrops() uint64 {
	if s.stats != nil {
		if st, err := s.stats.Stats(); err == nil {
			s.drops.Add(uint64(st.Drops))
		}
	}
	return s.drops.Load()
}

// kernelDropped tells the engine whether answers were lost on our own
// socket: loss that loss probes sent after the pass cannot see.
func (s *arpSweep) kernelDropped() bool { return s.kernelDrops() > 0 }

var zeroMAC = net.HardwareAddr{0, 0, 0, 0, 0, 0}

func (s *arpSweep) send(ctx context.Context, i int) error {
	a := s.eng.addrs[i]
	p, err := arp.NewPacket(arp.OperationRequest, s.hw, s.job.src(a), zeroMAC, addrOf(a))
	if err != nil {
		return fmt.Errorf("arp request for %s: %w", addrOf(a), err)
	}
	for attempt := 0; ; attempt++ {
		err = s.conn.WriteTo(p, ethernet.Broadcast)
		if err == nil {
			return nil
		}
		// A full transmit queue is back-pressure, not failure: give the
		// driver a moment, then drop this probe to the retry pass.
		if errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.EAGAIN) {
			if attempt < 3 {
				if err := sleep(ctx, s.eng.clock, time.Millisecond); err != nil {
					return err
				}
				continue
			}
			s.sendErrors.Add(1)
			return nil
		}
		return fmt.Errorf("arp sweep on %s: send to %s: %w", s.iface, addrOf(a), err)
	}
}

// confirm re-probes an address that answered with a request unicast to
// the MAC it answered with, as the kernel's own reachability probes do:
// a switch forwards it to one port instead of flooding the segment.
func (s *arpSweep) confirm(ctx context.Context, i int) error {
	a := s.eng.addrs[i]
	mac := s.col.macOf(addrOf(a))
	if mac == nil {
		return s.send(ctx, i)
	}
	p, err := arp.NewPacket(arp.OperationRequest, s.hw, s.job.src(a), zeroMAC, addrOf(a))
	if err != nil {
		return fmt.Errorf("arp request for %s: %w", addrOf(a), err)
	}
	if err := s.conn.WriteTo(p, mac); err != nil {
		if errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.EAGAIN) {
			// Counted lost, which only makes the sweep retry: the safe side.
			s.sendErrors.Add(1)
			return nil
		}
		return fmt.Errorf("arp sweep on %s: send to %s: %w", s.iface, addrOf(a), err)
	}
	return nil
}

// run sends the passes from the calling goroutine while one reader
// goroutine collects replies.
func (s *arpSweep) run(ctx context.Context) error {
	s.eng.send = s.send
	s.eng.confirm = s.confirm
	return s.eng.runWithReader(ctx, fmt.Sprintf("arp sweep on %s", s.iface), s.read, func() { _ = s.conn.SetReadDeadline(time.Unix(1, 0)) })
}

func (s *arpSweep) read(stopped *atomic.Bool) error {
	for {
		p, _, err := s.conn.Read()
		now := s.eng.clock.Now()
		if err != nil {
			if stopped.Load() {
				return nil
			}
			var opErr *net.OpError
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			if errors.As(err, &opErr) || errors.Is(err, net.ErrClosed) {
				return err
			}
			// A malformed frame; the segment is not ours to police.
			continue
		}
		if p.Operation != arp.OperationReply || bytes.Equal(p.SenderHardwareAddr, s.hw) {
			continue
		}
		i, ok := s.eng.index(p.SenderIP)
		if !ok {
			continue
		}
		rtt, _ := s.eng.reply(i, now)
		s.col.arpAnswer(p.SenderIP, p.SenderHardwareAddr)
		s.col.seen(p.SenderIP, "arp", p.SenderHardwareAddr, rtt, s.iface)
	}
}
