package abi_test

import (
	"testing"

	"github.com/wraft/wraft/abi"
	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/kv"
	"github.com/wraft/wraft/raft"
)

// proposeBatch is what a leader's host hands its core under load: the
// StorageAck of the last Persist and n SETs of 100-byte values.
func proposeBatch(n int) []engine.Input {
	in := []engine.Input{engine.StorageAck{Index: 1000, Term: 2}}
	for i := range n {
		in = append(in, engine.Propose{RequestID: uint64(i + 1), Command: kv.Command{ClientID: 1, Seq: uint64(i + 1),
			Op: kv.OpSet, Key: "key", Value: make([]byte, 100)}})
	}
	return in
}

// proposeEffects is what a single-node leader returns for such a batch:
// a Persist of the n new entries, n replies and a status.
func proposeEffects(n int) []engine.Effect {
	var p engine.Persist
	p.HardState = raft.HardState{Term: 2, Vote: 1, Commit: 1000}
	var effs []engine.Effect
	for i := range n {
		p.Entries = append(p.Entries, raft.Entry{Term: 2, Index: uint64(1001 + i),
			Data: kv.AppendCommand(nil, kv.Command{ClientID: 1, Seq: uint64(i + 1), Op: kv.OpSet, Key: "key", Value: make([]byte, 100)})})
		effs = append(effs, engine.Reply{RequestID: uint64(i + 1), Code: engine.ReplyOK, Index: uint64(1001 + i), Term: 2,
			Acks: 1, Voters: 1, Alive: 1, Leader: 1, OK: true})
	}
	effs = append([]engine.Effect{p}, effs...)
	var s engine.Status
	s.ID, s.Role, s.Term, s.Leader, s.Commit, s.Voters = 1, raft.RoleLeader, 2, 1, 1000, []uint64{1}
	s.Members = []raft.Member{{ID: 1}}
	s.Progress = []raft.PeerStatus{{ID: 1, Match: 1000, Next: 1001}}
	return append(effs, engine.StatusReport{Status: s})
}

// BenchmarkDecodeInputs decodes a batch of n proposals and a StorageAck,
// into a new slice and (reuse) into the same slice every time, as
// raft.wasm does.
func BenchmarkDecodeInputs(b *testing.B) {
	for _, n := range []int{1, 16} {
		enc := abi.AppendInputs(nil, proposeBatch(n))
		b.Run(itoa(n), func(b *testing.B) {
			b.SetBytes(int64(len(enc)))
			for b.Loop() {
				if _, err := abi.DecodeInputs(enc); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(itoa(n)+"/reuse", func(b *testing.B) {
			b.SetBytes(int64(len(enc)))
			var in []engine.Input
			for b.Loop() {
				var err error
				if in, err = abi.DecodeInputsTo(in, enc); err != nil {
					b.Fatal(err)
				}
				clear(in)
			}
		})
	}
}

// BenchmarkAppendEffects encodes the effects of a batch of n proposals on
// a single-node leader into a reused buffer, as raft.wasm does.
func BenchmarkAppendEffects(b *testing.B) {
	for _, n := range []int{1, 16} {
		effs := proposeEffects(n)
		var buf []byte
		b.Run(itoa(n), func(b *testing.B) {
			for b.Loop() {
				buf = abi.AppendEffects(buf[:0], effs)
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
