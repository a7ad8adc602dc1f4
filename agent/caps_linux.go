package agent

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// canRawSockets reports whether this process may open raw sockets: it
// tries to open a packet socket (what ARP sweeps, passive listening and
// raw magic packets need) and closes it at once. Root and CAP_NET_RAW
// (the systemd unit's AmbientCapabilities) both pass.
func canRawSockets() bool {
	fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, int(htons(syscall.ETH_P_ARP)))
	if err != nil {
		return false
	}
	syscall.Close(fd)
	return true
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// capNetRawEffective reads CAP_NET_RAW from a /proc/PID/status file's
// CapEff line, for the log: it says why raw sockets work or not.
func capNetRawEffective(statusPath string) (bool, bool) {
	f, err := os.Open(statusPath)
	if err != nil {
		return false, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "CapEff:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				return false, false
			}
			const capNetRaw = 13
			return mask&(1<<capNetRaw) != 0, true
		}
	}
	return false, false
}
