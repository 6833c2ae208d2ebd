package abi

import (
	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/wire"
)

// AppendInit appends the init record that starts an engine: u8 version,
// then
//
//	uvarint id, uvarint count of voters, a uvarint for each voter,
//	int electionTicks, int heartbeatTicks, uvarint seed,
//	bool disablePreVote, bool disableCheckQuorum, int maxInflightMsgs,
//	uvarint maxInflightBytes, uvarint maxMsgBytes,
//	int requestTimeoutTicks, int maxPending,
//	hardState, entries
//
// (the fields of cfg.Raft, then of cfg, then of rs), where hardState and
// entries are as wire.AppendHardState and wire.AppendEntries write them.
func AppendInit(b []byte, cfg engine.Config, rs engine.Restored) []byte {
	b = append(b, Version)
	rc := cfg.Raft
	b = wire.AppendUvarint(b, rc.ID)
	b = wire.AppendUvarint(b, uint64(len(rc.Voters)))
	for _, v := range rc.Voters {
		b = wire.AppendUvarint(b, v)
	}
	b = wire.AppendInt(b, rc.ElectionTicks)
	b = wire.AppendInt(b, rc.HeartbeatTicks)
	b = wire.AppendUvarint(b, rc.Seed)
	b = wire.AppendBool(b, rc.DisablePreVote)
	b = wire.AppendBool(b, rc.DisableCheckQuorum)
	b = wire.AppendInt(b, rc.MaxInflightMsgs)
	b = wire.AppendUvarint(b, rc.MaxInflightBytes)
	b = wire.AppendUvarint(b, rc.MaxMsgBytes)
	b = wire.AppendInt(b, cfg.RequestTimeoutTicks)
	b = wire.AppendInt(b, cfg.MaxPending)
	b = wire.AppendHardState(b, rs.HardState)
	return wire.AppendEntries(b, rs.Entries)
}

// DecodeInit decodes an init record that AppendInit encoded, which must
// fill b exactly. It refuses an unknown version, more than wire.MaxVoters
// voters, more than MaxInitEntries entries and anything wire.ReadEntry
// refuses. It does not validate the configuration: the engine does. Empty
// lists decode as nil. The results share no memory with b.
func DecodeInit(b []byte) (engine.Config, engine.Restored, error) {
	r := wire.NewReader(b, "abi: init")
	r.Version(Version)
	var cfg engine.Config
	var rs engine.Restored
	rc := &cfg.Raft
	rc.ID = r.Uvarint()
	if n := r.Count("voters", wire.MaxVoters, 1); n > 0 {
		rc.Voters = make([]uint64, n)
		for i := range rc.Voters {
			rc.Voters[i] = r.Uvarint()
		}
	}
	rc.ElectionTicks = r.Int()
	rc.HeartbeatTicks = r.Int()
	rc.Seed = r.Uvarint()
	rc.DisablePreVote = r.Bool()
	rc.DisableCheckQuorum = r.Bool()
	rc.MaxInflightMsgs = r.Int()
	rc.MaxInflightBytes = r.Uvarint()
	rc.MaxMsgBytes = r.Uvarint()
	cfg.RequestTimeoutTicks = r.Int()
	cfg.MaxPending = r.Int()
	rs.HardState = wire.ReadHardState(r)
	rs.Entries = wire.ReadEntries(r, MaxInitEntries)
	if err := r.Done(); err != nil {
		return engine.Config{}, engine.Restored{}, err
	}
	return cfg, rs, nil
}
