package main

import (
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
