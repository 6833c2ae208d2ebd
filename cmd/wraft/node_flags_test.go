package main

import (
	"log/slog"
	"strings"
	"testing"
)

// TestParsePeersRefusesSharedAddresses: two members at one peer address
// (issue 16 item 7b) is a startup error that names both, as is an address
// that is not host:port.
func TestParsePeersRefusesSharedAddresses(t *testing.T) {
	bad := []struct{ in, errHas string }{
		{"1=127.0.0.1:7001,2=127.0.0.1:7001", "--peers: nodes 1 and 2 share the peer address 127.0.0.1:7001"},
		{"3=pi.local:7001,1=h1:7001,2=PI.LOCAL:7001", "--peers: nodes 2 and 3 share the peer address PI.LOCAL:7001"},
		{"1=h1:7001,2=h2", `--peers: "2=h2" is not id=host:port`},
		{"1=h1:7001,2=h2:x", `--peers: "2=h2:x" is not id=host:port`},
	}
	for _, tc := range bad {
		have, err := parsePeers(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.errHas) {
			t.Errorf("parsePeers(%q): have %v, %v, want an error containing %q", tc.in, have, err, tc.errHas)
		}
	}
}

// TestNodeRefusesListenAtAnotherPeersAddress: --listen may not take the
// address --peers gives another member.
func TestNodeRefusesListenAtAnotherPeersAddress(t *testing.T) {
	err := runNode(nodeFlags{id: 4, peers: "1=127.0.0.1:7001,2=127.0.0.1:7002", listen: "127.0.0.1:7002",
		join: "http://127.0.0.1:1", data: t.TempDir(), api: "127.0.0.1:0", core: "native", logLevel: "error", led: "none"})
	if want := "nodes 2 and 4 share the peer address 127.0.0.1:7002"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("runNode(--listen at node 2's address) = %v, want an error containing %q", err, want)
	}
}

// TestNodeRefusesPlainPeersOffLoopback (issue 16 item 6): without TLS, a
// node refuses to listen for peers on an address other machines can
// reach, a wildcard included, before it listens anywhere.
func TestNodeRefusesPlainPeersOffLoopback(t *testing.T) {
	for _, tc := range []struct{ peers, listen, join string }{
		{peers: "1=0.0.0.0:7001,2=127.0.0.1:7002"},
		{peers: "1=10.0.0.11:7001,2=10.0.0.12:7001"},
		{peers: "1=pi1.local:7001"},
		{listen: "0.0.0.0:7001", join: "http://127.0.0.1:1"},
		{listen: ":7004", join: "http://127.0.0.1:1"},
		{listen: "[::]:7004", join: "http://127.0.0.1:1"},
	} {
		id := uint64(1)
		if tc.listen != "" {
			id = 4
		}
		err := runNode(nodeFlags{id: id, peers: tc.peers, listen: tc.listen, join: tc.join, data: t.TempDir(),
			api: "127.0.0.1:0", core: "native", logLevel: "error", led: "none"})
		for _, want := range []string{"refusing to listen for peers on", "without TLS", "--tls-cert", "wraft certs", "--insecure-peers"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("runNode(--peers %q --listen %q) = %v\nwant an error containing %q", tc.peers, tc.listen, err, want)
			}
		}
	}
}

// TestCheckPeerSecurity: loopback peers need no TLS; others need TLS or
// --insecure-peers, which logs a warning.
func TestCheckPeerSecurity(t *testing.T) {
	for _, tc := range []struct {
		listen        string
		tls, insecure bool
		ok, warn      bool
	}{
		{listen: "127.0.0.1:7001", ok: true},
		{listen: "[::1]:7001", ok: true},
		{listen: "localhost:7001", ok: true},
		{listen: "127.0.0.2:7001", ok: true},
		{listen: "0.0.0.0:7001"},
		{listen: ":7001"},
		{listen: "10.0.0.11:7001"},
		{listen: "pi1.local:7001"},
		{listen: "0.0.0.0:7001", tls: true, ok: true},
		{listen: "0.0.0.0:7001", insecure: true, ok: true, warn: true},
		{listen: "10.0.0.11:7001", insecure: true, ok: true, warn: true},
		{listen: "127.0.0.1:7001", insecure: true, ok: true},
	} {
		var logs strings.Builder
		log := slog.New(slog.NewTextHandler(&logs, nil))
		err := checkPeerSecurity(log, tc.listen, tc.tls, tc.insecure)
		warned := strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), "INSECURE")
		if (err == nil) != tc.ok || warned != tc.warn {
			t.Errorf("checkPeerSecurity(%q, tls %v, insecure %v) = %v, logged %q; want ok %v, warning %v",
				tc.listen, tc.tls, tc.insecure, err, logs.String(), tc.ok, tc.warn)
		}
	}
}
