//go:build !linux

package transport

import (
	"syscall"
	"time"
)

const (
	keepAliveInterval = time.Second
	keepAliveCount    = 3
)

// setUserTimeout does nothing: TCP_USER_TIMEOUT is Linux's. Keepalives and
// the transport's own acknowledgements still notice a dead peer.
func (t timing) setUserTimeout(syscall.RawConn) error { return nil }
