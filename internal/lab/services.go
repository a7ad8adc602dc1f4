package lab

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"regexp"
	"strconv"

	"golang.org/x/sys/unix"
)

var errProcessDone = os.ErrProcessDone

// listenTCP opens a listener inside namespace ns that accepts connections
// and closes them at once: enough for a connect scan to see an open port.
// It lives in this process and is closed by Close.
func (l *Lab) listenTCP(ns string, addr netip.AddrPort) error {
	var ln net.Listener
	err := inNetns(ns, func() error {
		var err error
		ln, err = net.Listen("tcp4", addr.String())
		return err
	})
	if err != nil {
		return fmt.Errorf("listen on %s in %s: %w", addr, ns, err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		ln.Close()
		return errClosed
	}
	l.closers = append(l.closers, ln.Close)
	return nil
}

// SendGratuitousARP makes the quiet host announce itself once: a broadcast
// ARP request whose sender and target are both its own address, as
// `arping -U` and most operating systems send on link up.
func (l *Lab) SendGratuitousARP(ctx context.Context) error {
	q := l.Quiet
	if q == nil {
		return errors.New("send gratuitous ARP: the lab has no quiet host (Config.GratuitousOnly)")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return inNetns(q.Namespace, func() error {
		ifi, err := net.InterfaceByName(q.Interface)
		if err != nil {
			return fmt.Errorf("find %s: %w", q.Interface, err)
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, int(htons(unix.ETH_P_ARP)))
		if err != nil {
			return fmt.Errorf("open packet socket in %s: %w", q.Namespace, err)
		}
		defer unix.Close(fd)
		bcast := net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
		frame := arpFrame(bcast, q.MAC, 1, q.Addr.Addr(), nil, q.Addr.Addr())
		sa := &unix.SockaddrLinklayer{Ifindex: ifi.Index, Protocol: htons(unix.ETH_P_ARP), Halen: 6}
		copy(sa.Addr[:], bcast)
		if err := unix.Sendto(fd, frame, 0, sa); err != nil {
			return fmt.Errorf("send gratuitous ARP on %s: %w", q.Interface, err)
		}
		return nil
	})
}

// arpFrame builds an Ethernet frame carrying an IPv4 ARP packet.
func arpFrame(dst, src net.HardwareAddr, op uint16, spa netip.Addr, tha net.HardwareAddr, tpa netip.Addr) []byte {
	b := make([]byte, 0, 60)
	b = append(b, dst...)
	b = append(b, src...)
	b = binary.BigEndian.AppendUint16(b, unix.ETH_P_ARP)
	b = binary.BigEndian.AppendUint16(b, 1)      // Ethernet
	b = binary.BigEndian.AppendUint16(b, 0x0800) // IPv4
	b = append(b, 6, 4)
	b = binary.BigEndian.AppendUint16(b, op)
	b = append(b, src...)
	s := spa.As4()
	b = append(b, s[:]...)
	if tha == nil {
		tha = make(net.HardwareAddr, 6)
	}
	b = append(b, tha...)
	t := tpa.As4()
	b = append(b, t[:]...)
	// Pad to the Ethernet minimum, as a NIC would.
	for len(b) < 60 {
		b = append(b, 0)
	}
	return b
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// SetLoss drops percent of the frames in each direction on the scanner's
// switch port, at random, from now on; 0 stops dropping. It uses an
// nftables netdev table on the port (this kernel has no netem).
func (l *Lab) SetLoss(ctx context.Context, percent float64) error {
	if percent < 0 || percent > 100 {
		return fmt.Errorf("set loss: %v%% is not a percentage", percent)
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return errClosed
	}
	create := !l.lossTable
	l.mu.Unlock()
	n := int(percent*100 + 0.5) // out of 10000
	script := ""
	if create {
		script = fmt.Sprintf(`table netdev loss {
	chain in {
		type filter hook ingress device %q priority 0; policy accept;
	}
	chain out {
		type filter hook egress device %q priority 0; policy accept;
	}
}
`, l.scannerPort, l.scannerPort)
	}
	script += "flush chain netdev loss in\nflush chain netdev loss out\n"
	if n > 0 {
		script += fmt.Sprintf("add rule netdev loss in numgen random mod 10000 < %d counter drop\n", n)
		script += fmt.Sprintf("add rule netdev loss out numgen random mod 10000 < %d counter drop\n", n)
	}
	if err := l.nft(ctx, l.Switch, script); err != nil {
		return fmt.Errorf("set loss to %v%%: %w", percent, err)
	}
	l.mu.Lock()
	l.lossTable = true
	l.mu.Unlock()
	return nil
}

var counterRE = regexp.MustCompile(`chain (in|out) \{[^}]*?counter packets (\d+)`)

// Dropped returns how many frames the loss rules have dropped since the
// last SetLoss: toward the switch (sent by the scanner) and toward the
// scanner.
func (l *Lab) Dropped(ctx context.Context) (in, out uint64, err error) {
	b, err := l.Exec(ctx, l.Switch, l.tools.nft, "list", "table", "netdev", "loss")
	if err != nil {
		return 0, 0, fmt.Errorf("read loss counters: %w", err)
	}
	for _, m := range counterRE.FindAllStringSubmatch(string(b), -1) {
		n, _ := strconv.ParseUint(m[2], 10, 64)
		if m[1] == "in" {
			in = n
		} else {
			out = n
		}
	}
	return in, out, nil
}
