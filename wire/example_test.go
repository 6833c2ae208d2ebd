package wire_test

import (
	"errors"
	"fmt"

	"github.com/wraft/wraft/raft"
	"github.com/wraft/wraft/wire"
)

func ExampleAppendMessage() {
	m := raft.Message{Type: raft.MsgHeartbeat, From: 1, To: 2, Term: 3, Commit: 200}
	b := wire.AppendMessage(nil, m)
	fmt.Printf("% x\n", b)

	back, err := wire.DecodeMessage(b)
	fmt.Println(back.Type, back.From, back.To, back.Commit, err)

	_, err = wire.DecodeMessage(b[:8])
	fmt.Println(err, errors.Is(err, wire.ErrTruncated))
	// Output:
	// 01 07 01 02 03 00 00 c8 01 00 00 00 00
	// Heartbeat 1 2 200 <nil>
	// wire: message truncated at byte 7 true
}

func ExampleReader() {
	var b []byte
	b = wire.AppendUvarint(b, 300)
	b = wire.AppendString(b, "key")

	r := wire.NewReader(b, "example: record")
	n := r.Uvarint()
	key := r.String("key", 16)
	fmt.Println(n, key, r.Done())

	r = wire.NewReader(b, "example: record")
	r.Uvarint()
	r.String("key", 2)
	fmt.Println(r.Done())
	// Output:
	// 300 key <nil>
	// example: record key too large (3 > 2) at byte 2
}
