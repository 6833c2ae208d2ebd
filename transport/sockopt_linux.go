package transport

import (
	"syscall"
	"time"
)

const (
	keepAliveInterval = time.Second
	keepAliveCount    = 3
	// tcpUserTimeout is TCP_USER_TIMEOUT of <linux/tcp.h>, the same on
	// every architecture (package syscall lacks it on some).
	tcpUserTimeout = 0x12
)

// setUserTimeout sets TCP_USER_TIMEOUT on c: the kernel closes a
// connection whose sent data stays unacknowledged for timing.userTimeout,
// however far its retransmissions have backed off.
func (t timing) setUserTimeout(c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpUserTimeout, int(t.userTimeout/time.Millisecond))
	})
	if err != nil {
		return err
	}
	return serr
}
