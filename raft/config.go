package raft

import (
	"errors"
	"slices"
	"strconv"
)

// Defaults for the optional Config fields.
const (
	DefaultElectionTicks    = 10
	DefaultHeartbeatTicks   = 1
	DefaultMaxInflightMsgs  = 256
	DefaultMaxInflightBytes = 8 << 20
	DefaultMaxMsgBytes      = 1 << 20
)

// Config configures a Node. Zero values of the optional fields select the
// defaults above.
type Config struct {
	// ID is this node's id; it must be non-zero and one of Voters.
	ID uint64
	// Voters lists every voting member, this node included. Order does not
	// matter; duplicates are an error.
	Voters []uint64
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
	// MaxInflightBytes bounds the entry bytes sent to one follower and not
	// yet acknowledged.
	MaxInflightBytes uint64
	// MaxMsgBytes bounds the entry bytes in one MsgApp (a single larger
	// entry is still sent, alone).
	MaxMsgBytes uint64
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
	if len(c.Voters) == 0 {
		return c, configError("no voters")
	}
	voters := slices.Clone(c.Voters)
	slices.Sort(voters)
	for i, v := range voters {
		if v == 0 {
			return c, configError("voter id 0 is reserved")
		}
		if i > 0 && voters[i-1] == v {
			return c, configError("duplicate voter " + strconv.FormatUint(v, 10))
		}
	}
	if !slices.Contains(voters, c.ID) {
		return c, configError("node " + strconv.FormatUint(c.ID, 10) + " is not among the voters")
	}
	c.Voters = voters
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
	return c, nil
}
