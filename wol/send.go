package wol

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"time"

	"github.com/mdlayher/packet"
)

// DefaultPorts are the UDP ports magic packets go to: 9 (discard), which
// most firmware listens on, and 7 (echo), which some older cards want.
var DefaultPorts = []int{9, 7}

// Method says how a magic packet is put on the wire.
type Method string

// The methods.
const (
	// MethodAuto sends raw Ethernet when the route has an interface and
	// the process may open a raw socket, else UDP to the broadcast.
	MethodAuto Method = ""
	// MethodRaw sends an Ethernet frame with EtherType 0x0842 to
	// ff:ff:ff:ff:ff:ff. It needs CAP_NET_RAW.
	MethodRaw Method = "raw"
	// MethodUDP sends UDP datagrams to the route's broadcast address on
	// every port. It needs no privilege.
	MethodUDP Method = "udp"
)

// ParseMethod reads "auto", "raw" or "udp".
func ParseMethod(s string) (Method, error) {
	switch s {
	case "", "auto":
		return MethodAuto, nil
	case "raw", "udp":
		return Method(s), nil
	}
	return "", fmt.Errorf("method %q: want auto, raw or udp", s)
}

// PrivilegeError is returned when raw sending needs a privilege the
// process lacks. Its message says how to grant it; errors.Is(err,
// os.ErrPermission) holds.
type PrivilegeError struct {
	Op    string // "raw Wake-on-LAN on eth0"
	Needs string // "CAP_NET_RAW"
	Err   error
}

func (e *PrivilegeError) Error() string {
	msg := fmt.Sprintf("%s needs %s: run as root, or grant it with \"sudo setcap cap_net_raw+ep $(which lanscout)\", or under systemd AmbientCapabilities=CAP_NET_RAW; or send UDP instead (--method udp)", e.Op, e.Needs)
	if e.Err != nil {
		msg += " (" + e.Err.Error() + ")"
	}
	return msg
}

func (e *PrivilegeError) Unwrap() error { return e.Err }

// Is makes the error match os.ErrPermission.
func (e *PrivilegeError) Is(target error) bool { return target == os.ErrPermission }

// Sender sends magic packets. The zero value sends to DefaultPorts with no
// password, raw when it may. A Sender holds no sockets between calls and
// is safe for concurrent use.
type Sender struct {
	Ports    []int  // UDP ports; default DefaultPorts
	Password []byte // SecureOn password: nil, 4 or 6 bytes
	Method   Method
	Logger   *slog.Logger // default: discard
}

// Result is the outcome for one MAC.
type Result struct {
	MAC    net.HardwareAddr
	Method Method // how it was sent (raw or udp); "" when nothing was
	Err    error  // nil when the packet left this host
}

// Validate checks the sender's settings.
func (s *Sender) Validate() error {
	if _, err := ParseMethod(string(s.Method)); err != nil {
		return err
	}
	for _, p := range s.Ports {
		if p < 1 || p > 65535 {
			return fmt.Errorf("UDP port %d: want 1-65535", p)
		}
	}
	if n := len(s.Password); n != 0 && n != 4 && n != 6 {
		return fmt.Errorf("%w: %d bytes, want 4 or 6", ErrInvalidPassword, n)
	}
	return nil
}

// Send wakes every MAC on the segment r leads to and returns one Result per
// MAC, in order. The error is for failures of the whole send (bad
// settings, a route it cannot use, a missing privilege with MethodRaw);
// then no packet was sent. "Sent" means the packet left this host: only
// the target coming up proves it woke.
func (s *Sender) Send(ctx context.Context, r Route, macs []net.HardwareAddr) ([]Result, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	payloads := make([][]byte, len(macs))
	for i, m := range macs {
		p, err := MagicPacket(m, s.Password)
		if err != nil {
			return nil, err
		}
		payloads[i] = p
	}
	method := s.Method
	var raw *packet.Conn
	if method != MethodUDP && r.Interface != nil {
		c, err := packet.Listen(r.Interface.net(), packet.Raw, EtherType, nil)
		switch {
		case err == nil:
			raw = c
			method = MethodRaw
			defer raw.Close()
		case method == MethodRaw:
			return nil, rawError(r.Interface.Name, err)
		case errors.Is(err, os.ErrPermission) && r.Broadcast.IsValid():
			log.Debug("no raw socket, sending UDP", "iface", r.Interface.Name, "err", err)
			method = MethodUDP
		default:
			return nil, rawError(r.Interface.Name, err)
		}
	} else if method == MethodRaw {
		return nil, errors.New("raw Wake-on-LAN needs an interface")
	}
	if method != MethodRaw {
		method = MethodUDP
		if !r.Broadcast.IsValid() || !r.Broadcast.Is4() {
			return nil, errors.New("UDP Wake-on-LAN needs an IPv4 broadcast address")
		}
	}
	deadline, _ := ctx.Deadline()
	if deadline.IsZero() {
		deadline = time.Now().Add(5 * time.Second)
	}

	out := make([]Result, len(macs))
	if method == MethodRaw {
		_ = raw.SetWriteDeadline(deadline)
		for i, m := range macs {
			out[i] = Result{MAC: m, Method: MethodRaw}
			if err := ctx.Err(); err != nil {
				out[i].Err = err
				continue
			}
			if _, err := raw.WriteTo(ethernetFrame(r.Interface.HardwareAddr, payloads[i]), &packet.Addr{HardwareAddr: broadcastMAC}); err != nil {
				out[i].Err = fmt.Errorf("send raw frame on %s: %w", r.Interface.Name, err)
			}
		}
		return out, nil
	}

	ports := s.Ports
	if len(ports) == 0 {
		ports = DefaultPorts
	}
	uc, err := listenUDP(ctx)
	if err != nil {
		return nil, err
	}
	defer uc.Close()
	_ = uc.SetWriteDeadline(deadline)
	for i, m := range macs {
		out[i] = Result{MAC: m, Method: MethodUDP}
		var errs []error
		for _, port := range ports {
			if err := ctx.Err(); err != nil {
				errs = append(errs, err)
				break
			}
			dst := netip.AddrPortFrom(r.Broadcast, uint16(port))
			if _, err := uc.WriteToUDPAddrPort(payloads[i], dst); err != nil {
				errs = append(errs, fmt.Errorf("send UDP to %s: %w", dst, err))
			}
		}
		// The card wakes on any one packet: a port that failed does not
		// fail the MAC while another went out.
		if len(errs) == len(ports) || ctx.Err() != nil {
			out[i].Err = errors.Join(errs...)
		}
	}
	return out, nil
}

// listenUDP opens the unconnected IPv4 socket datagrams are sent from. Go
// sets SO_BROADCAST on UDP sockets, so no privilege is needed.
func listenUDP(ctx context.Context) (*net.UDPConn, error) {
	var lc net.ListenConfig
	c, err := lc.ListenPacket(ctx, "udp4", ":0")
	if err != nil {
		return nil, fmt.Errorf("open UDP socket: %w", err)
	}
	return c.(*net.UDPConn), nil
}

func rawError(ifname string, err error) error {
	if errors.Is(err, os.ErrPermission) {
		return &PrivilegeError{Op: "raw Wake-on-LAN on " + ifname, Needs: "CAP_NET_RAW", Err: err}
	}
	return fmt.Errorf("open raw socket on %s: %w", ifname, err)
}

// PortsString writes ports for messages: "9,7".
func PortsString(ports []int) string {
	s := ""
	for i, p := range ports {
		if i > 0 {
			s += ","
		}
		s += strconv.Itoa(p)
	}
	return s
}
