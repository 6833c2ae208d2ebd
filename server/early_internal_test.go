package server

import (
	"slices"
	"testing"

	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/raft"
)

// A follower's heartbeat response leaves before the fsync of the entries
// in the same batch (it depends on the durable term only), as the
// leader's appends and heartbeats do; acknowledgements and votes wait, and
// nothing overtakes a snapshot or a change of term or vote.
func TestEarlySends(t *testing.T) {
	send := func(typ raft.MessageType) engine.Effect { return engine.Send{Message: raft.Message{Type: typ, To: 1}} }
	durable := raft.HardState{Term: 2, Vote: 1, Commit: 3}
	persist := engine.Persist{HardState: raft.HardState{Term: 2, Vote: 1, Commit: 4}, Entries: []raft.Entry{{Index: 4, Term: 2}}}
	effects := []engine.Effect{persist, send(raft.MsgAppResp), send(raft.MsgHeartbeatResp), send(raft.MsgApp),
		send(raft.MsgHeartbeat), send(raft.MsgVoteResp), engine.SaveSnapshot{}, send(raft.MsgHeartbeatResp)}
	tests := []struct {
		name    string
		durable raft.HardState
		effects []engine.Effect
		want    []bool
	}{
		{"same term and vote", durable, effects, []bool{false, false, true, true, true, false, false, false}},
		{"new term", raft.HardState{Term: 1, Vote: 1}, effects, nil},
		{"new vote", raft.HardState{Term: 2}, effects, nil},
		{"no persist first", durable, effects[1:], nil},
		{"nothing", durable, nil, nil},
	}
	for _, tt := range tests {
		if have := earlySends(tt.effects, tt.durable); !slices.Equal(have, tt.want) {
			t.Errorf("%s: have %v, want %v", tt.name, have, tt.want)
		}
	}
}
