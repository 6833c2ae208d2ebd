package sim

import (
	"errors"
	"fmt"

	"github.com/wraft/wraft/engine"
)

// Factory builds one node's core from its configuration and the state its
// host recovered from storage. The simulator builds every core through a
// Factory, at start and at every restart, so that any implementation of
// engine.Core (the native engine, raft.wasm in a runtime) runs the same
// simulations and must produce the same trace hash.
type Factory func(engine.Config, engine.Restored) (engine.Core, error)

// NetworkConfig describes how the simulated network treats every message.
// Partitions and per-node slowness are set apart, on the Cluster.
type NetworkConfig struct {
	// MinDelay and MaxDelay bound a message's one-way delay in
	// milliseconds; each message draws its own, uniformly, so messages
	// overtake each other when MaxDelay > MinDelay.
	MinDelay, MaxDelay int64
	// DropRate is the probability that a message is lost, in [0, 1].
	DropRate float64
	// DupRate is the probability that a message is delivered twice (each
	// copy with its own delay), in [0, 1].
	DupRate float64
}

// DefaultNetwork returns a healthy LAN: 1–5 ms, nothing lost or duplicated.
func DefaultNetwork() NetworkConfig { return NetworkConfig{MinDelay: 1, MaxDelay: 5} }

// DiskConfig describes the simulated disks.
type DiskConfig struct {
	// MinLatency and MaxLatency bound how long one Persist takes to become
	// durable, in milliseconds, drawn uniformly per Persist.
	MinLatency, MaxLatency int64
	// TornWriteRate is the probability that a crash during a Persist with
	// entries lands a (possibly empty) prefix of them; otherwise the write
	// is lost whole. The hard state of a torn write never lands.
	TornWriteRate float64
}

// DefaultDisk returns an SSD with fsync: 0–3 ms per Persist, and half of
// the writes cut by a crash are torn.
func DefaultDisk() DiskConfig { return DiskConfig{MinLatency: 0, MaxLatency: 3, TornWriteRate: 0.5} }

// Options configures a Cluster. Zero values select the defaults documented
// on each field.
type Options struct {
	// Seed seeds the cluster's one random source, and through it every
	// node's engine seed.
	Seed uint64
	// Nodes is the cluster size; ids are 1..Nodes. Default 3.
	Nodes int
	// Factory builds the cores. Default NativeFactory.
	Factory Factory
	// TickMillis is the simulated length of one tick. Default 10.
	TickMillis int64
	// ElectionTicks and HeartbeatTicks go to raft.Config. Defaults 10 and 2.
	ElectionTicks, HeartbeatTicks int
	// RequestTimeoutTicks goes to engine.Config (0: the engine's default).
	RequestTimeoutTicks int
	// DisablePreVote and DisableCheckQuorum go to raft.Config.
	DisablePreVote, DisableCheckQuorum bool
	// Spares adds nodes Nodes+1..Nodes+Spares that start outside the
	// cluster, knowing its configuration with themselves as learners (as a
	// joining node is told); ChangeMembers brings them in.
	Spares int
	// SnapshotEntries and SnapshotRetain go to engine.Config (0: the
	// engine's defaults).
	SnapshotEntries, SnapshotRetain int
	// Network is the initial network; zero means DefaultNetwork.
	Network *NetworkConfig
	// Disk configures the disks; zero means DefaultDisk.
	Disk *DiskConfig
	// Pipeline selects the host's shape. By default a node's host is one
	// loop, like a daemon's: it hands the engine everything that arrived
	// while it was busy, in one batch, once it has carried out the effects
	// of the previous batch (fsyncs included). With Pipeline, the host
	// keeps handing the engine inputs while its disk writes, and when a
	// write starts it merges every Persist queued into it, so that a slow
	// disk gets fewer, larger writes instead of a backlog.
	Pipeline bool
	// StoryLen is how many recent events a Violation tells. Default 80.
	StoryLen int
	// Replay is the command that replays this run, printed with every
	// violation, such as "go test ./sim -run TestSeeds -seed=7 -v".
	Replay string
	// Logf, if set, receives the run's notable events as they happen, one
	// line each: faults, client requests and replies, elections, role and
	// term changes. Message traffic is not logged.
	Logf func(format string, args ...any)
}

// ErrOptions is wrapped by the errors New returns for unusable Options.
var ErrOptions = errors.New("sim: invalid options")

func (o Options) withDefaults() (Options, error) {
	if o.Nodes == 0 {
		o.Nodes = 3
	}
	if o.Nodes < 1 || o.Nodes > 9 || o.Spares < 0 || o.Spares > 4 {
		return o, fmt.Errorf("%w: %d nodes and %d spares (want 1..9 and 0..4)", ErrOptions, o.Nodes, o.Spares)
	}
	if o.Factory == nil {
		o.Factory = NativeFactory
	}
	if o.TickMillis == 0 {
		o.TickMillis = 10
	}
	if o.TickMillis < 0 {
		return o, fmt.Errorf("%w: negative tick length", ErrOptions)
	}
	if o.ElectionTicks == 0 {
		o.ElectionTicks = 10
	}
	if o.HeartbeatTicks == 0 {
		o.HeartbeatTicks = 2
	}
	if o.Network == nil {
		n := DefaultNetwork()
		o.Network = &n
	}
	if err := o.Network.validate(); err != nil {
		return o, err
	}
	if o.Disk == nil {
		d := DefaultDisk()
		o.Disk = &d
	}
	if o.Disk.MinLatency < 0 || o.Disk.MaxLatency < o.Disk.MinLatency ||
		o.Disk.TornWriteRate < 0 || o.Disk.TornWriteRate > 1 {
		return o, fmt.Errorf("%w: disk %+v", ErrOptions, *o.Disk)
	}
	if o.StoryLen == 0 {
		o.StoryLen = 80
	}
	return o, nil
}

func (c NetworkConfig) validate() error {
	if c.MinDelay < 0 || c.MaxDelay < c.MinDelay || c.DropRate < 0 || c.DropRate > 1 ||
		c.DupRate < 0 || c.DupRate > 1 {
		return fmt.Errorf("%w: network %+v", ErrOptions, c)
	}
	return nil
}

// nodeSeed derives node id's engine seed from the simulation seed
// (splitmix64 of the pair), so that nodes draw different election
// timeouts and a different simulation seed gives every node a new one.
func nodeSeed(seed, id uint64) uint64 {
	z := seed ^ (id * 0x9e3779b97f4a7c15)
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
