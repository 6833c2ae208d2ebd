package transport

import (
	"net"
	"syscall"
)

// keepAliveConfig returns the TCP keepalive settings of every connection:
// probes after timing.keepAlive of silence, a second apart, three of them.
func (t timing) keepAliveConfig() net.KeepAliveConfig {
	return net.KeepAliveConfig{Enable: true, Idle: t.keepAlive, Interval: keepAliveInterval, Count: keepAliveCount}
}

// control sets socket options of a connection before it connects: a
// net.Dialer's Control.
func (t timing) control(_, _ string, c syscall.RawConn) error {
	return t.setUserTimeout(c)
}

// tune sets the socket options of an accepted connection, if it is TCP.
// Failures only cost the kernel's help in noticing a dead peer: they are
// returned for logging.
func (t timing) tune(conn net.Conn) error {
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return nil
	}
	if err := tc.SetKeepAliveConfig(t.keepAliveConfig()); err != nil {
		return err
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return err
	}
	return t.setUserTimeout(raw)
}
