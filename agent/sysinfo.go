package agent

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lanscout/lanscout/agent/protocol"
)

// NetIf is one interface as the kernel lists it: what net.Interfaces
// gives, addresses with their prefix.
type NetIf struct {
	Name  string
	MAC   string
	MTU   int
	Addrs []netip.Prefix
}

// Collector reads the machine's own inventory. Root is where /proc, /sys
// and /etc are read ("" for /), so tests can point it at a fake tree.
type Collector struct {
	Root string
	// Interfaces lists the interfaces; default: net.Interfaces.
	Interfaces func() ([]NetIf, error)
	Now        func() time.Time
}

func (c Collector) path(p string) string {
	if c.Root == "" {
		return p
	}
	return filepath.Join(c.Root, p)
}

// readTrim returns a file's content without surrounding space, "" when
// unreadable (DMI serials are root-only on most machines).
func (c Collector) readTrim(p string) string {
	b, err := os.ReadFile(c.path(p))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// Collect returns the inventory with its hash. Nothing here fails: what
// cannot be read is left empty.
func (c Collector) Collect(version string) protocol.Inventory {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	inv := protocol.Inventory{Version: version, Arch: runtime.GOARCH, Gateways: []string{}, DNS: []string{}}
	inv.Hostname = c.readTrim("/proc/sys/kernel/hostname")
	if inv.Hostname == "" {
		inv.Hostname, _ = os.Hostname()
	}
	inv.OSName, inv.OSVersion = c.osRelease()
	inv.Kernel = c.readTrim("/proc/sys/kernel/osrelease")
	inv.Manufacturer = c.readTrim("/sys/class/dmi/id/sys_vendor")
	inv.Model = c.readTrim("/sys/class/dmi/id/product_name")
	inv.Serial = c.readTrim("/sys/class/dmi/id/product_serial")
	inv.UUID = strings.ToLower(c.readTrim("/sys/class/dmi/id/product_uuid"))
	// Boot time is what stays put between reports, and the hash counts
	// it: the kernel's btime (Linux), to the second, does not depend on
	// when it is read.
	bt, haveBoot := c.bootTime()
	if haveBoot {
		inv.Boot = bt
	}
	if f := strings.Fields(c.readTrim("/proc/uptime")); len(f) > 0 {
		if up, err := strconv.ParseFloat(f[0], 64); err == nil {
			inv.UptimeS = int64(up)
			if !haveBoot {
				// Without the kernel's own boot time, one derived from
				// the uptime: it moves by the milliseconds between the
				// two readings, so rounding it to a coarse step keeps it
				// from flipping (and re-sending the inventory) on every
				// report unless the boot fell within those milliseconds
				// of a step's middle.
				inv.Boot = now().Add(-time.Duration(up * float64(time.Second))).Round(bootStep).UTC()
			}
		}
	}
	inv.NICs = c.nics()
	inv.Gateways = c.gateways()
	inv.DNS, inv.DNSSearch = c.resolvConf()
	inv.Hash = InventoryHash(inv)
	return inv
}

// bootStep rounds a boot time derived from the uptime.
const bootStep = 10 * time.Minute

// bootTime reads the boot time from the btime line of /proc/stat.
func (c Collector) bootTime() (time.Time, bool) {
	f, err := os.Open(c.path("/proc/stat"))
	if err != nil {
		return time.Time{}, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20) // the intr line is long
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if !ok || k != "btime" {
			continue
		}
		sec, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || sec <= 0 {
			return time.Time{}, false
		}
		return time.Unix(sec, 0).UTC(), true
	}
	return time.Time{}, false
}

// InventoryHash hashes what an inventory says, leaving out the hash
// itself and the uptime (which changes on every read), so an unchanged
// machine is not re-sent.
func InventoryHash(inv protocol.Inventory) string {
	inv.Hash, inv.UptimeS = "", 0
	b, _ := json.Marshal(inv)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// osRelease reads NAME/PRETTY_NAME and VERSION_ID from os-release.
func (c Collector) osRelease() (name, version string) {
	for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		f, err := os.Open(c.path(p))
		if err != nil {
			continue
		}
		kv := map[string]string{}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), "=")
			if ok {
				kv[k] = strings.Trim(v, `"'`)
			}
		}
		f.Close()
		name = kv["NAME"]
		version = kv["VERSION_ID"]
		if version == "" {
			version = kv["VERSION"]
		}
		return name, version
	}
	return runtime.GOOS, ""
}

// nics lists every interface with its kind and state from /sys/class/net.
func (c Collector) nics() []protocol.NIC {
	list := c.Interfaces
	if list == nil {
		list = systemInterfaces
	}
	ifs, err := list()
	if err != nil {
		return []protocol.NIC{}
	}
	out := []protocol.NIC{}
	for _, ifi := range ifs {
		kind, virt := NICKind(c.path("/sys/class/net"), ifi.Name)
		n := protocol.NIC{Name: ifi.Name, MAC: ifi.MAC, Kind: kind, Virtual: virt, MTU: ifi.MTU, Addresses: []string{},
			State: c.readTrim("/sys/class/net/" + ifi.Name + "/operstate")}
		for _, a := range ifi.Addrs {
			n.Addresses = append(n.Addresses, a.String())
		}
		out = append(out, n)
	}
	return out
}

func systemInterfaces() ([]NetIf, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	var out []NetIf
	for _, ifi := range ifs {
		n := NetIf{Name: ifi.Name, MAC: ifi.HardwareAddr.String(), MTU: ifi.MTU}
		addrs, _ := ifi.Addrs()
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(ipn.IP)
			if !ok {
				continue
			}
			ones, _ := ipn.Mask.Size()
			ip = ip.Unmap()
			n.Addrs = append(n.Addrs, netip.PrefixFrom(ip, ones))
		}
		out = append(out, n)
	}
	return out, nil
}

// ARPHRD_LOOPBACK and ARPHRD_NONE from <linux/if_arp.h>.
const (
	arphrdLoopback = "772"
	arphrdNone     = "65534"
)

// NICKind says whether the interface name under sysNet (a
// /sys/class/net directory) is wired, wireless or virtual, and for a
// virtual one what it is: "loopback", "bridge", "veth", "tun", "vlan",
// "bond", or "virtual" when it cannot tell. A wireless interface has a
// wireless directory or a phy80211 link; a real one (wired or wireless)
// has a device link to its bus; everything else is virtual. Unknown ("")
// when the directory is not there.
func NICKind(sysNet, name string) (kind, virtual string) {
	dir := filepath.Join(sysNet, name)
	if _, err := os.Stat(dir); err != nil {
		return "", ""
	}
	exists := func(p string) bool { _, err := os.Lstat(filepath.Join(dir, p)); return err == nil }
	read := func(p string) string { b, _ := os.ReadFile(filepath.Join(dir, p)); return strings.TrimSpace(string(b)) }
	devtype := ""
	for _, l := range strings.Split(read("uevent"), "\n") {
		if v, ok := strings.CutPrefix(l, "DEVTYPE="); ok {
			devtype = v
		}
	}
	switch {
	case exists("wireless"), exists("phy80211"), devtype == "wlan":
		return "wireless", ""
	case read("type") == arphrdLoopback:
		return "virtual", "loopback"
	case exists("bridge"), devtype == "bridge":
		return "virtual", "bridge"
	case exists("bonding"), devtype == "bond":
		return "virtual", "bond"
	case exists("tun_flags"), read("type") == arphrdNone:
		return "virtual", "tun"
	case devtype == "vlan":
		return "virtual", "vlan"
	case exists("device"):
		return "wired", ""
	}
	// A veth's iflink is its peer's index, not its own.
	if il, ix := read("iflink"), read("ifindex"); il != "" && ix != "" && il != ix {
		return "virtual", "veth"
	}
	return "virtual", "virtual"
}

// gateways reads the default routes from /proc/net/route.
func (c Collector) gateways() []string {
	out := []string{}
	f, err := os.Open(c.path("/proc/net/route"))
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		if len(fl) < 8 || fl[1] != "00000000" || fl[7] != "00000000" {
			continue
		}
		flags, _ := strconv.ParseUint(fl[3], 16, 16)
		const rtfGateway = 0x2
		if flags&rtfGateway == 0 {
			continue
		}
		raw, err := strconv.ParseUint(fl[2], 16, 32)
		if err != nil {
			continue
		}
		var b [4]byte
		// /proc/net/route prints the address as a host-order number;
		// every Linux this runs on is little-endian.
		binary.LittleEndian.PutUint32(b[:], uint32(raw))
		gw := netip.AddrFrom4(b).String()
		if !slices.Contains(out, gw) {
			out = append(out, gw)
		}
	}
	return out
}

// resolvConf reads name servers and the search list.
func (c Collector) resolvConf() (servers, search []string) {
	servers = []string{}
	f, err := os.Open(c.path("/etc/resolv.conf"))
	if err != nil {
		return servers, nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		if len(fl) < 2 || strings.HasPrefix(fl[0], "#") {
			continue
		}
		switch fl[0] {
		case "nameserver":
			servers = append(servers, fl[1])
		case "search", "domain":
			search = fl[1:]
		}
	}
	return servers, search
}
