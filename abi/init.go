package abi

import (
	"slices"

	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/raft"
	"github.com/wraft/wraft/wire"
)

// AppendInit appends the init record that starts an engine: u8 version,
// then
//
//	uvarint id, members, int electionTicks, int heartbeatTicks,
//	uvarint seed, bool disablePreVote, bool disableCheckQuorum,
//	int maxInflightMsgs, uvarint maxInflightBytes, uvarint maxMsgBytes,
//	uvarint maxSnapshotChunkBytes, uvarint maxSnapshotBytes,
//	int requestTimeoutTicks, int maxPending, int snapshotEntries,
//	int snapshotRetain, hardState, bool hasSnapshot,
//	[snapshot meta, bytes snapshot data,] entries
//
// (the fields of cfg.Raft, then of cfg, then of rs), where members,
// hardState, snapshot meta and entries are as wire.AppendMembers,
// wire.AppendHardState, wire.AppendSnapshotMeta and wire.AppendEntries
// write them, and the snapshot's meta and data are present only when
// hasSnapshot is true. Members are cfg.Raft.Members or, when that is
// empty, cfg.Raft.Voters and cfg.Raft.Learners (as learners) sorted by id,
// without addresses; Voters and Learners are not encoded otherwise.
func AppendInit(b []byte, cfg engine.Config, rs engine.Restored) []byte {
	b = append(b, Version)
	rc := cfg.Raft
	b = wire.AppendUvarint(b, rc.ID)
	b = wire.AppendMembers(b, initMembers(rc))
	b = wire.AppendInt(b, rc.ElectionTicks)
	b = wire.AppendInt(b, rc.HeartbeatTicks)
	b = wire.AppendUvarint(b, rc.Seed)
	b = wire.AppendBool(b, rc.DisablePreVote)
	b = wire.AppendBool(b, rc.DisableCheckQuorum)
	b = wire.AppendInt(b, rc.MaxInflightMsgs)
	b = wire.AppendUvarint(b, rc.MaxInflightBytes)
	b = wire.AppendUvarint(b, rc.MaxMsgBytes)
	b = wire.AppendUvarint(b, rc.MaxSnapshotChunkBytes)
	b = wire.AppendUvarint(b, rc.MaxSnapshotBytes)
	b = wire.AppendInt(b, cfg.RequestTimeoutTicks)
	b = wire.AppendInt(b, cfg.MaxPending)
	b = wire.AppendInt(b, cfg.SnapshotEntries)
	b = wire.AppendInt(b, cfg.SnapshotRetain)
	b = wire.AppendHardState(b, rs.HardState)
	b = wire.AppendBool(b, rs.Snapshot != nil)
	if rs.Snapshot != nil {
		b = wire.AppendSnapshotMeta(b, rs.Snapshot.Meta)
		b = wire.AppendBytes(b, rs.Snapshot.Data)
	}
	return wire.AppendEntries(b, rs.Entries)
}

// initMembers returns the configuration AppendInit encodes for rc.
func initMembers(rc raft.Config) []raft.Member {
	if len(rc.Members) > 0 {
		return rc.Members
	}
	ms := make([]raft.Member, 0, len(rc.Voters)+len(rc.Learners))
	for _, id := range rc.Voters {
		ms = append(ms, raft.Member{ID: id})
	}
	for _, id := range rc.Learners {
		ms = append(ms, raft.Member{ID: id, Learner: true})
	}
	slices.SortStableFunc(ms, func(a, b raft.Member) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return ms
}

// DecodeInit decodes an init record that AppendInit encoded, which must
// fill b exactly. It refuses an unknown version, more than wire.MaxVoters
// members, more than MaxInitEntries entries, a snapshot's Data over
// MaxSnapshotBytes and anything wire.ReadEntry or wire.ReadMembers
// refuses. It does not validate the configuration: the engine does. The
// members decode into cfg.Raft.Members, leaving Voters and Learners nil.
// Empty lists decode as nil; rs.Snapshot is nil when absent. The results
// share no memory with b.
func DecodeInit(b []byte) (engine.Config, engine.Restored, error) {
	r := wire.NewReader(b, "abi: init")
	r.Version(Version)
	var cfg engine.Config
	var rs engine.Restored
	rc := &cfg.Raft
	rc.ID = r.Uvarint()
	rc.Members = wire.ReadMembers(r)
	rc.ElectionTicks = r.Int()
	rc.HeartbeatTicks = r.Int()
	rc.Seed = r.Uvarint()
	rc.DisablePreVote = r.Bool()
	rc.DisableCheckQuorum = r.Bool()
	rc.MaxInflightMsgs = r.Int()
	rc.MaxInflightBytes = r.Uvarint()
	rc.MaxMsgBytes = r.Uvarint()
	rc.MaxSnapshotChunkBytes = r.Uvarint()
	rc.MaxSnapshotBytes = r.Uvarint()
	cfg.RequestTimeoutTicks = r.Int()
	cfg.MaxPending = r.Int()
	cfg.SnapshotEntries = r.Int()
	cfg.SnapshotRetain = r.Int()
	rs.HardState = wire.ReadHardState(r)
	if r.Bool() {
		meta := wire.ReadSnapshotMeta(r)
		rs.Snapshot = &raft.Snapshot{Meta: meta, Data: r.Bytes("snapshot data", MaxSnapshotBytes)}
	}
	rs.Entries = wire.ReadEntries(r, MaxInitEntries)
	if err := r.Done(); err != nil {
		return engine.Config{}, engine.Restored{}, err
	}
	return cfg, rs, nil
}
