//go:build linux

package discover

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"

	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/sys/unix"
)

// Listen reports hosts seen in ARP traffic (requests, replies, gratuitous
// announcements) and DHCPv4 exchanges on iface, or on every Ethernet
// interface that is up when iface is "", until ctx ends. It sends
// nothing. found is called, one call at a time, when an address is first
// seen and again whenever what is known about it changes (a new MAC for
// an IP, a new lease or host name for a MAC); frames from this machine's
// own interfaces are ignored. A DHCP client is reported once its address
// is known: the requested address (option 50), its current address, or
// the address a server acknowledged.
//
// Listen returns nil when ctx ends, and an error when the sockets cannot
// be opened (a *PrivilegeError without CAP_NET_RAW) or reading fails.
func Listen(ctx context.Context, iface string, logger *slog.Logger, found func(Host)) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return fmt.Errorf("passive listening: list interfaces: %w", err)
	}
	var (
		pick []net.Interface
		own  = map[string]bool{}
	)
	for _, ifi := range ifs {
		own[ifi.HardwareAddr.String()] = true
		l := link{HW: ifi.HardwareAddr, Flags: ifi.Flags}
		switch {
		case iface != "" && ifi.Name == iface:
			if !l.ethernet() {
				return fmt.Errorf("passive listening on %s: not an Ethernet interface that is up", iface)
			}
			pick = append(pick, ifi)
		case iface == "" && l.ethernet():
			pick = append(pick, ifi)
		}
	}
	if iface != "" && len(pick) == 0 {
		return fmt.Errorf("passive listening: interface %q: %w", iface, errNoInterface)
	}
	if len(pick) == 0 {
		return errors.New("passive listening: no Ethernet interface is up")
	}

	// pcapgo hides the errno of a failed socket(2); ask for one ourselves
	// so a missing privilege is reported as such.
	if fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0); err != nil {
		return needRaw("passive listening on "+pick[0].Name, os.NewSyscallError("socket", err))
	} else {
		unix.Close(fd)
	}
	filter := passiveFilter()
	var handles []*pcapgo.EthernetHandle
	closeAll := func() {
		for _, h := range handles {
			_ = h.Close()
		}
	}
	for _, ifi := range pick {
		h, err := pcapgo.NewEthernetHandle(ifi.Name)
		if err != nil {
			closeAll()
			return fmt.Errorf("passive listening on %s: %w", ifi.Name, err)
		}
		handles = append(handles, h)
		if err := h.SetBPF(filter); err != nil {
			closeAll()
			return fmt.Errorf("passive listening on %s: filter: %w", ifi.Name, err)
		}
	}
	logger.Info("passive listening", "interfaces", len(handles))

	st := newPassiveState(own, found)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for i, h := range handles {
		name := pick[i].Name
		wg.Go(func() {
			for {
				data, _, err := h.ReadPacketData()
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					if errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN) {
						continue
					}
					errOnce.Do(func() { firstErr = fmt.Errorf("passive listening on %s: read: %w", name, err) })
					cancel()
					return
				}
				st.handle(name, decodeFrame(data))
			}
		})
	}
	<-ctx.Done()
	// Closing the handles wakes their readers.
	closeAll()
	wg.Wait()
	return firstErr
}
