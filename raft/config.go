package raft

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
)

// Defaults for the optional Config fields.
const (
	DefaultElectionTicks    = 10
	DefaultHeartbeatTicks   = 1
	DefaultMaxInflightMsgs  = 256
	DefaultMaxInflightBytes = 2 << 20
	DefaultMaxMsgBytes      = 256 << 10
)

// Config configures a Node. Zero values of the optional fields select the
// defaults above.
type Config struct {
	// ID is this node's id; it must be non-zero and a member.
	ID uint64
	// Voters lists every voting member of the initial configuration, and
	// Learners its non-voting members. Order does not matter; duplicates
	// are an error. A snapshot's configuration, or a committed
	// configuration change in the log, replaces the initial one.
	Voters   []uint64
	Learners []uint64
	// Members, if set, is the initial configuration with addresses, in
	// place of Voters and Learners (which must then be empty).
	Members []Member
	// ElectionTicks is the base election timeout. A follower campaigns after
	// a random timeout in [ElectionTicks, 2*ElectionTicks) ticks without
	// hearing from a leader. Must exceed HeartbeatTicks.
	ElectionTicks int
	// HeartbeatTicks is how often a leader sends heartbeats.
	HeartbeatTicks int
	// Seed seeds the node's election jitter. Same seed, same inputs: same
	// outputs.
	Seed uint64
	// DisablePreVote turns off PreVote (thesis §9.6). PreVote is on by
	// default: a node first asks whether it could win before it raises its
	// term, so a partitioned node cannot disrupt the cluster on rejoin.
	DisablePreVote bool
	// DisableCheckQuorum turns off CheckQuorum. It is on by default: a
	// leader that has not heard from a majority within an election timeout
	// steps down, and followers that heard from a leader within the
	// election timeout refuse (pre-)votes.
	DisableCheckQuorum bool
	// MaxInflightMsgs bounds the MsgApp sent to one follower and not yet
	// acknowledged.
	MaxInflightMsgs int
	// MaxInflightBytes bounds the entry bytes (the Data of the entries)
	// sent to one follower and not yet acknowledged: a MsgApp goes out
	// only if it fits in what is left, so large entries are paced by
	// bytes, and a slow follower never has more than this queued towards
	// it, in front of its heartbeats. A single larger entry is still sent,
	// alone in flight.
	MaxInflightBytes uint64
	// MaxMsgBytes bounds the entry bytes in one MsgApp (a single larger
	// entry is still sent, alone).
	MaxMsgBytes uint64
	// MaxSnapshotChunkBytes is the size of one snapshot chunk; one chunk
	// per follower is in flight at a time.
	MaxSnapshotChunkBytes uint64
	// MaxSnapshotBytes bounds the size of a snapshot a follower accepts.
	MaxSnapshotBytes uint64
}

// ErrInvalidConfig is wrapped by every error New returns for a bad Config.
var ErrInvalidConfig = errors.New("raft: invalid config")

type configError string

func (e configError) Error() string        { return "raft: invalid config: " + string(e) }
func (e configError) Unwrap() error        { return ErrInvalidConfig }
func (e configError) Is(target error) bool { return target == ErrInvalidConfig }

func (c Config) validate() (Config, error) {
	if c.ID == 0 {
		return c, configError("node id 0 is reserved")
	}
	if len(c.Members) > 0 {
		if len(c.Voters) > 0 || len(c.Learners) > 0 {
			return c, configError("set Members or Voters and Learners, not both")
		}
		ms := slices.Clone(c.Members)
		slices.SortFunc(ms, func(a, b Member) int { return cmp.Compare(a.ID, b.ID) })
		c.Members = ms
	} else {
		for _, v := range c.Voters {
			c.Members = append(c.Members, Member{ID: v})
		}
		for _, v := range c.Learners {
			c.Members = append(c.Members, Member{ID: v, Learner: true})
		}
		slices.SortFunc(c.Members, func(a, b Member) int { return cmp.Compare(a.ID, b.ID) })
	}
	c.Voters, c.Learners = nil, nil
	for i, m := range c.Members {
		if m.ID == 0 {
			return c, configError("member id 0 is reserved")
		}
		if i > 0 && c.Members[i-1].ID == m.ID {
			return c, configError("duplicate member " + strconv.FormatUint(m.ID, 10))
		}
		if m.Learner {
			c.Learners = append(c.Learners, m.ID)
		} else {
			c.Voters = append(c.Voters, m.ID)
		}
	}
	if len(c.Voters) == 0 {
		return c, configError("no voters")
	}
	if !slices.ContainsFunc(c.Members, func(m Member) bool { return m.ID == c.ID }) {
		return c, configError("node " + strconv.FormatUint(c.ID, 10) + " is not a member")
	}
	if c.ElectionTicks == 0 {
		c.ElectionTicks = DefaultElectionTicks
	}
	if c.HeartbeatTicks == 0 {
		c.HeartbeatTicks = DefaultHeartbeatTicks
	}
	if c.HeartbeatTicks < 0 || c.ElectionTicks <= c.HeartbeatTicks {
		return c, configError("election ticks must exceed heartbeat ticks (both positive)")
	}
	if c.MaxInflightMsgs == 0 {
		c.MaxInflightMsgs = DefaultMaxInflightMsgs
	}
	if c.MaxInflightMsgs < 0 {
		return c, configError("negative MaxInflightMsgs")
	}
	if c.MaxInflightBytes == 0 {
		c.MaxInflightBytes = DefaultMaxInflightBytes
	}
	if c.MaxMsgBytes == 0 {
		c.MaxMsgBytes = DefaultMaxMsgBytes
	}
	if c.MaxSnapshotChunkBytes == 0 {
		c.MaxSnapshotChunkBytes = DefaultMaxSnapshotChunkBytes
	}
	if c.MaxSnapshotBytes == 0 {
		c.MaxSnapshotBytes = DefaultMaxSnapshotBytes
	}
	return c, nil
}
