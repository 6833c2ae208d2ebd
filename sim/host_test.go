package sim

import (
	"testing"

	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/raft"
)

// fakeCore is a scripted core: on each Handle it records the inputs with
// the time, and returns whatever its script says.
type fakeCore struct {
	c       **Cluster
	id      uint64
	r       engine.Restored
	script  func(f *fakeCore, in []engine.Input) []engine.Effect
	inputs  []timedInput
	handled int
}

type timedInput struct {
	at int64
	in engine.Input
}

func (f *fakeCore) Handle(in []engine.Input) ([]engine.Effect, error) {
	for _, x := range in {
		f.inputs = append(f.inputs, timedInput{(*f.c).now, x})
	}
	f.handled++
	if f.script == nil {
		return nil, nil
	}
	return f.script(f, in), nil
}

// fakeCluster starts a cluster of fake cores; cores[id] is the node's
// current core.
func fakeCluster(t *testing.T, n int, disk DiskConfig, script func(f *fakeCore, in []engine.Input) []engine.Effect) (*Cluster, map[uint64]*fakeCore) {
	t.Helper()
	cores := map[uint64]*fakeCore{}
	var c *Cluster
	factory := func(cfg engine.Config, r engine.Restored) (engine.Core, error) {
		f := &fakeCore{c: &c, id: cfg.Raft.ID, r: r, script: script}
		cores[cfg.Raft.ID] = f
		return f, nil
	}
	net := NetworkConfig{MinDelay: 5, MaxDelay: 5}
	c, err := New(Options{Seed: 1, Nodes: n, Factory: factory, Network: &net, Disk: &disk})
	if err != nil {
		t.Fatal(err)
	}
	return c, cores
}

func TestHostPersistBeforeSend(t *testing.T) {
	e := []raft.Entry{{Index: 1, Term: 1}, {Index: 2, Term: 1}}
	script := func(f *fakeCore, in []engine.Input) []engine.Effect {
		if f.id != 1 || f.handled != 1 {
			return nil
		}
		return []engine.Effect{
			engine.Persist{HardState: raft.HardState{Term: 1, Vote: 1}, Entries: e},
			engine.Send{Message: raft.Message{Type: raft.MsgApp, From: 1, To: 2, Term: 1}},
		}
	}
	c, cores := fakeCluster(t, 2, DiskConfig{MinLatency: 50, MaxLatency: 50}, script)
	if err := c.Run(200); err != nil {
		t.Fatal(err)
	}
	first := cores[1].inputs[0].at
	var ackAt, recvAt int64 = -1, -1
	for _, x := range cores[1].inputs {
		if a, ok := x.in.(engine.StorageAck); ok {
			if a != (engine.StorageAck{Index: 2, Term: 1}) {
				t.Errorf("storage ack %+v, want index 2 term 1", a)
			}
			ackAt = x.at
		}
	}
	for _, x := range cores[2].inputs {
		if _, ok := x.in.(engine.Receive); ok {
			recvAt = x.at
		}
	}
	if ackAt != first+50 {
		t.Errorf("storage ack at %d ms, want %d (after 50 ms of disk)", ackAt, first+50)
	}
	if recvAt != first+55 {
		t.Errorf("message received at %d ms, want %d: sent only once the persist was durable, then 5 ms on the wire", recvAt, first+55)
	}
}

func TestHostCrashTearsTheWriteInProgress(t *testing.T) {
	e := []raft.Entry{{Index: 1, Term: 1}, {Index: 2, Term: 1}, {Index: 3, Term: 1}, {Index: 4, Term: 1}}
	script := func(f *fakeCore, in []engine.Input) []engine.Effect {
		if f.id != 1 || f.handled != 1 || len(f.r.Entries) > 0 {
			return nil
		}
		return []engine.Effect{
			engine.Persist{HardState: raft.HardState{Term: 1, Vote: 1}, Entries: e[:1]},
			engine.Persist{HardState: raft.HardState{Term: 2, Vote: 1, Commit: 1}, Entries: e[1:]},
			engine.Send{Message: raft.Message{Type: raft.MsgApp, From: 1, To: 2, Term: 2}},
		}
	}
	c, cores := fakeCluster(t, 2, DiskConfig{MinLatency: 100, MaxLatency: 100, TornWriteRate: 1}, script)
	first := int64(-1)
	if _, err := c.RunUntil(func() bool {
		if first < 0 && len(cores[1].inputs) > 0 {
			first = cores[1].inputs[0].at
		}
		return first >= 0 && c.now >= first+150
	}, 1000); err != nil {
		t.Fatal(err)
	}
	if err := c.Crash(1); err != nil {
		t.Fatal(err)
	}
	hs, log := c.Disk(1)
	if hs != (raft.HardState{Term: 1, Vote: 1}) {
		t.Errorf("hard state after the crash %+v, want the first persist's", hs)
	}
	if len(log) < 1 || len(log) > 4 {
		t.Errorf("log after the crash has %d entries, want the first and a prefix of the rest", len(log))
	}
	if err := c.Run(100); err != nil {
		t.Fatal(err)
	}
	for _, x := range cores[2].inputs {
		if _, ok := x.in.(engine.Receive); ok {
			t.Errorf("n2 received a message queued behind a persist that never completed")
		}
	}
	if err := c.Restart(1); err != nil {
		t.Fatal(err)
	}
	if r := cores[1].r; r.HardState != hs || len(r.Entries) != len(log) {
		t.Errorf("restart restored %+v with %d entries, want %+v with %d", r.HardState, len(r.Entries), hs, len(log))
	}
}

func TestHostRequestsToADownNodeAreLost(t *testing.T) {
	c, _ := fakeCluster(t, 3, DiskConfig{}, nil)
	if err := c.Crash(2); err != nil {
		t.Fatal(err)
	}
	call, err := c.Read(2, "k")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Run(10); err != nil {
		t.Fatal(err)
	}
	if !call.Done || !call.Lost {
		t.Errorf("a read sent to a down node: done %v lost %v, want both", call.Done, call.Lost)
	}
}

func TestHostRejectsASecondFinalReply(t *testing.T) {
	script := func(f *fakeCore, in []engine.Input) []engine.Effect {
		var out []engine.Effect
		for _, x := range in {
			if r, ok := x.(engine.Read); ok {
				out = append(out, engine.Reply{RequestID: r.RequestID, Code: engine.ReplyNoQuorum},
					engine.Reply{RequestID: r.RequestID, Code: engine.ReplyTimeout})
			}
		}
		return out
	}
	c, _ := fakeCluster(t, 3, DiskConfig{}, script)
	if _, err := c.Read(1, "k"); err != nil {
		t.Fatal(err)
	}
	err := c.Run(10)
	v, ok := err.(*Violation)
	if !ok || v.Rule != RuleHostContract {
		t.Fatalf("a second final reply gave %v, want a host contract violation", err)
	}
}

// A crash that cuts a Persist short can leave entries of a term the hard
// state never reached: a follower that learns term 2 from the new leader's
// first append persists {term 2} together with the entries of term 2, and
// entries are written first. The engine must start from that disk, which
// is the state of a correctly written WAL after a torn write (the vote it
// cast, if any, is in an earlier, complete record).
func TestEngineStartsFromATornWrite(t *testing.T) {
	var d disk
	if _, err := d.write(engine.Persist{HardState: raft.HardState{Term: 1, Vote: 1, Commit: 1},
		Entries: []raft.Entry{{Index: 1, Term: 1, Type: raft.EntryNoop}}}); err != nil {
		t.Fatal(err)
	}
	d.tear(engine.Persist{HardState: raft.HardState{Term: 2, Commit: 1},
		Entries: []raft.Entry{{Index: 2, Term: 2, Type: raft.EntryNoop}, {Index: 3, Term: 2, Type: raft.EntryNoop}}}, 1)
	cfg := engine.Config{Raft: raft.Config{ID: 3, Voters: []uint64{1, 2, 3}, ElectionTicks: 10, HeartbeatTicks: 2}}
	if _, err := NativeFactory(cfg, d.restored()); err != nil {
		t.Errorf("the engine refuses the disk a torn write leaves (hard state %+v, entries up to 2/t2): %v", d.hs, err)
	}
}
