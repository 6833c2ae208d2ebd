package raft

import (
	"reflect"
	"testing"
)

// FuzzDecodeConfChange checks that DecodeConfChange, which reads the Data
// of configuration change entries that arrive from peers, never panics,
// and that a change it accepts encodes and decodes back to itself.
func FuzzDecodeConfChange(f *testing.F) {
	for _, cc := range []ConfChange{
		{Type: ConfAddLearner, NodeID: 4, Addr: "n4:7000"},
		{Type: ConfPromote, NodeID: 4, Members: []Member{{ID: 1}, {ID: 2}, {ID: 4, Addr: "n4:7000"}}},
		{Type: ConfRemove, NodeID: 2, Members: []Member{{ID: 1, Addr: "a"}, {ID: 3, Learner: true}}},
		{Type: ConfForce, NodeID: 1, Members: []Member{{ID: 1}}},
	} {
		f.Add(EncodeConfChange(cc))
	}
	f.Add([]byte{})
	f.Add([]byte{1, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		cc, err := DecodeConfChange(b)
		if err != nil {
			return
		}
		again, err := DecodeConfChange(EncodeConfChange(cc))
		if err != nil || !reflect.DeepEqual(again, cc) {
			t.Fatalf("decoded again: have %+v, %v, want %+v, nil", again, err, cc)
		}
	})
}
