package transport_test

import (
	"io"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/wraft/wraft/raft"
	"github.com/wraft/wraft/transport"
	"github.com/wraft/wraft/wire"
)

// TestPeerAPIs (issue 16 item 8): every node's hello announces its API
// URL, so each node learns the API URL of every peer that dialled it; a
// peer that announces none is left out, and a removed member is forgotten.
func TestPeerAPIs(t *testing.T) {
	checkGoroutines(t)
	apis := map[uint64]string{1: "http://10.0.0.1:8001", 2: "https://n2.example:8443", 3: ""}
	nodes := newCluster(t, 3, func(id uint64, c *transport.Config) { c.APIURL = apis[id] })
	want := func(self uint64) map[uint64]string {
		out := map[uint64]string{}
		for id, u := range apis {
			if id != self && u != "" {
				out[id] = u
			}
		}
		return out
	}
	for _, n := range nodes {
		waitFor(t, "API URLs announced", func() bool { return maps.Equal(n.tr.PeerAPIs(), want(n.id)) })
	}
	// A copy: changing it changes nothing.
	nodes[2].tr.PeerAPIs()[1] = "http://elsewhere"
	if have := nodes[2].tr.PeerAPIs(); !maps.Equal(have, want(3)) {
		t.Errorf("PeerAPIs after changing its result: have %v, want %v", have, want(3))
	}
	// Node 3 drops node 1 from its members.
	if err := nodes[2].tr.SetPeers(map[uint64]string{2: nodes[1].addr}); err != nil {
		t.Fatal(err)
	}
	if have := nodes[2].tr.PeerAPIs(); !maps.Equal(have, map[uint64]string{2: apis[2]}) {
		t.Errorf("PeerAPIs after removing node 1: have %v, want only node 2's", have)
	}
}

// TestPeerAPIOldHello: a hello of the form before API URLs (version 2
// without one, or version 1) is still accepted, and announces nothing.
func TestPeerAPIOldHello(t *testing.T) {
	for _, version := range []byte{1, 2} {
		ln := listen(t)
		n := startNode(t, 1, ln, map[uint64]string{2: "127.0.0.1:1"}, nil)
		conn := dial(t, n.addr)
		if _, err := conn.Write(helloFrame("wraft", version, 2, 1)); err != nil {
			t.Fatal(err)
		}
		want := helloFrame("wraft", version, 1, 2)
		answer := make([]byte, len(want))
		conn.SetReadDeadline(time.Now().Add(patience))
		if _, err := io.ReadFull(conn, answer); err != nil || string(answer) != string(want) {
			t.Fatalf("version %d: answer % x, %v; want % x", version, answer, err, want)
		}
		if have := n.tr.PeerAPIs(); len(have) != 0 {
			t.Errorf("version %d: PeerAPIs %v, want none", version, have)
		}
	}
}

// TestAPIURLTooLong: a Config whose API URL could not travel in a hello
// is refused.
func TestAPIURLTooLong(t *testing.T) {
	_, err := transport.New(transport.Config{ID: 1, Listen: "127.0.0.1:0",
		APIURL: "http://" + strings.Repeat("a", wire.MaxAddrBytes)}, func(raft.Message) {})
	if err == nil || !strings.Contains(err.Error(), "API URL") {
		t.Errorf("have %v, want an error about the API URL", err)
	}
}
