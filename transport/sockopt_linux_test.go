package transport

import (
	"net"
	"syscall"
	"testing"
	"time"
)

// userTimeout reads TCP_USER_TIMEOUT of conn.
func userTimeout(t *testing.T, conn net.Conn) time.Duration {
	t.Helper()
	raw, err := conn.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var ms int
	var serr error
	if err := raw.Control(func(fd uintptr) {
		ms, serr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpUserTimeout)
	}); err != nil {
		t.Fatal(err)
	}
	if serr != nil {
		t.Fatal(serr)
	}
	return time.Duration(ms) * time.Millisecond
}

func TestUserTimeoutSet(t *testing.T) {
	cfg, err := Config{ID: 1, Listen: "unused", ElectionTimeout: 700 * time.Millisecond}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	tm := cfg.timing()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	nd := &net.Dialer{KeepAliveConfig: tm.keepAliveConfig(), Control: tm.control}
	out, err := nd.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	in, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if err := tm.tune(in); err != nil {
		t.Fatal(err)
	}
	for name, conn := range map[string]net.Conn{"dialled": out, "accepted": in} {
		if have, want := userTimeout(t, conn), 1400*time.Millisecond; have != want {
			t.Errorf("%s: TCP_USER_TIMEOUT %v, want %v", name, have, want)
		}
	}
}
