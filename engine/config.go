package engine

import (
	"errors"

	"github.com/wraft/wraft/raft"
)

// Config configures an Engine. The zero values of optional fields select
// the defaults documented on each.
type Config struct {
	// Raft configures the protocol: node id, voters, timeouts, seed.
	Raft raft.Config
	// RequestTimeoutTicks is how long a client request may wait before it
	// fails with ReplyTimeout or ReplyNoQuorum. Default: 5 election timeouts.
	RequestTimeoutTicks int
	// MaxPending bounds the client requests waiting at once; more are
	// refused with ReplyOverloaded. Default 4096.
	MaxPending int
	// SnapshotEntries is how many entries the log may grow past the last
	// snapshot before the engine snapshots the store and compacts the log.
	// Default DefaultSnapshotEntries.
	SnapshotEntries int
	// SnapshotRetain is how many entries before a snapshot the log keeps,
	// so that followers a little behind catch up without a snapshot.
	// Default SnapshotEntries/10; it must be below SnapshotEntries.
	SnapshotRetain int
}

// DefaultSnapshotEntries is the default of Config.SnapshotEntries.
const DefaultSnapshotEntries = 10000

// Restored is what a host recovered from its storage at start: the last
// HardState, the newest snapshot (nil if none) and every entry of the log
// after it, in index order. A new node passes the zero Restored.
type Restored struct {
	HardState raft.HardState
	Snapshot  *raft.Snapshot
	Entries   []raft.Entry
}

// ErrConfig is returned for a configuration the engine cannot run with.
var ErrConfig = errors.New("engine: invalid config: negative limit")

func (c Config) withDefaults() (Config, error) {
	if c.RequestTimeoutTicks < 0 || c.MaxPending < 0 || c.SnapshotEntries < 0 || c.SnapshotRetain < 0 {
		return c, ErrConfig
	}
	if c.SnapshotEntries == 0 {
		c.SnapshotEntries = DefaultSnapshotEntries
	}
	if c.SnapshotRetain == 0 {
		c.SnapshotRetain = c.SnapshotEntries / 10
	}
	if c.SnapshotRetain >= c.SnapshotEntries {
		return c, errors.New("engine: invalid config: SnapshotRetain must be below SnapshotEntries")
	}
	election := c.Raft.ElectionTicks
	if election == 0 {
		election = raft.DefaultElectionTicks
	}
	if c.RequestTimeoutTicks == 0 {
		c.RequestTimeoutTicks = 5 * election
	}
	if c.MaxPending == 0 {
		c.MaxPending = 4096
	}
	return c, nil
}
