//go:build linux

package discover

import "golang.org/x/sys/unix"

// setReceiveBuffer asks for a receive buffer of n bytes. SO_RCVBUFFORCE
// needs CAP_NET_ADMIN and ignores net.core.rmem_max; without it the
// kernel caps SO_RCVBUF at rmem_max.
func setReceiveBuffer(fd uintptr, n int) {
	if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n) != nil {
		_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, n)
	}
}

func newTCPSocket() (int, error) {
	return unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
}
