package transport_test

import (
	"fmt"
	"net"

	"github.com/wraft/wraft/raft"
	"github.com/wraft/wraft/transport"
)

// Two nodes on 127.0.0.1. Listening first lets each Config name the other's
// address; a daemon would set Listen and Peers from its flags instead.
func ExampleNew() {
	ln1, _ := net.Listen("tcp", "127.0.0.1:0")
	ln2, _ := net.Listen("tcp", "127.0.0.1:0")
	peers := map[uint64]string{1: ln1.Addr().String(), 2: ln2.Addr().String()}

	got := make(chan raft.Message, 1)
	t1, err := transport.New(transport.Config{ID: 1, Listener: ln1, Peers: peers}, func(raft.Message) {})
	if err != nil {
		panic(err)
	}
	defer t1.Close()
	t2, err := transport.New(transport.Config{ID: 2, Listener: ln2, Peers: peers}, func(m raft.Message) { got <- m })
	if err != nil {
		panic(err)
	}
	defer t2.Close()

	// An append waits for the connection; a heartbeat that waited longer
	// than the election timeout would be dropped as stale.
	t1.Send(raft.Message{Type: raft.MsgApp, From: 1, To: 2, Term: 4, Commit: 10})
	m := <-got
	fmt.Println(m.Type, "from", m.From, "to", m.To, "term", m.Term, "commit", m.Commit)
	// Output:
	// App from 1 to 2 term 4 commit 10
}
