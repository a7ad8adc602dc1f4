package wol

import (
	"fmt"
	"net"

	mdwol "github.com/mdlayher/wol"
)

// EtherType is the registered EtherType of Wake-on-LAN frames sent
// straight on Ethernet.
const EtherType = mdwol.EtherType

// broadcastMAC is where raw frames go: every card on the segment sees them,
// the sleeping one included, and no switch needs to have learnt it.
var broadcastMAC = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// MagicPacket returns the magic packet waking mac: six 0xff bytes, the
// MAC sixteen times, then the SecureOn password (nil, 4 or 6 bytes). It
// is the payload of both the raw frame and the UDP datagram: 102, 106 or
// 108 bytes.
func MagicPacket(mac net.HardwareAddr, password []byte) ([]byte, error) {
	if err := checkMAC(mac); err != nil {
		return nil, err
	}
	if n := len(password); n != 0 && n != 4 && n != 6 {
		return nil, fmt.Errorf("%w: %d bytes, want 4 or 6", ErrInvalidPassword, n)
	}
	p := mdwol.MagicPacket{Target: mac, Password: password}
	return p.MarshalBinary()
}

// ethernetFrame wraps payload in an Ethernet II header from src to the
// broadcast address with the Wake-on-LAN EtherType. Frames shorter than
// Ethernet's minimum are padded by the kernel's driver.
func ethernetFrame(src net.HardwareAddr, payload []byte) []byte {
	f := make([]byte, 14+len(payload))
	copy(f[0:6], broadcastMAC)
	copy(f[6:12], src)
	f[12], f[13] = byte(EtherType>>8), byte(EtherType&0xff)
	copy(f[14:], payload)
	return f
}

// ParseMagicPacket reads a magic packet (the payload of a frame or
// datagram) and returns the MAC it wakes and its password. Packet sinks in
// tests and anything listening for wakes use it.
func ParseMagicPacket(b []byte) (net.HardwareAddr, []byte, error) {
	var p mdwol.MagicPacket
	if err := p.UnmarshalBinary(b); err != nil {
		return nil, nil, fmt.Errorf("not a magic packet: %w", err)
	}
	return p.Target, p.Password, nil
}
