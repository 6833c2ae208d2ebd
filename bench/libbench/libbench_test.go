package libbench

import (
	"fmt"
	"testing"

	etcdraft "go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/wraft/wraft/raft"
)

// maxSteps bounds every delivery loop, so that a bug cannot hang a
// benchmark.
const maxSteps = 1_000_000

// loop is one library's three-node cluster, driven synchronously.
type loop interface {
	// propose proposes entries on the leader.
	propose(data [][]byte) error
	// settle delivers messages and carries out Readys until the network
	// is quiet; it returns how many proposed entries the leader applied.
	settle() (int, error)
}

// wraftLoop drives three wraft raft.Nodes.
type wraftLoop struct {
	nodes []*raft.Node
	queue []raft.Message
	lead  int
}

func newWraftLoop() (*wraftLoop, error) {
	l := &wraftLoop{}
	for id := uint64(1); id <= 3; id++ {
		n, err := raft.New(raft.Config{ID: id, Voters: []uint64{1, 2, 3}, ElectionTicks: 10, HeartbeatTicks: 1, Seed: id},
			raft.HardState{}, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("wraft: new node %d: %w", id, err)
		}
		l.nodes = append(l.nodes, n)
	}
	for range 100 {
		for _, n := range l.nodes {
			n.Tick()
		}
		if _, err := l.settle(); err != nil {
			return nil, err
		}
		for i, n := range l.nodes {
			if n.Leader() == n.ID() {
				l.lead = i
				return l, nil
			}
		}
	}
	return nil, fmt.Errorf("wraft: no leader within 100 ticks")
}

func (l *wraftLoop) propose(data [][]byte) error {
	if _, err := l.nodes[l.lead].Propose(data...); err != nil {
		return fmt.Errorf("wraft: propose: %w", err)
	}
	return nil
}

func (l *wraftLoop) settle() (int, error) {
	applied := 0
	for range maxSteps {
		busy := false
		for i, n := range l.nodes {
			if !n.HasReady() {
				continue
			}
			busy = true
			rd := n.Ready()
			l.queue = append(l.queue, rd.Messages...)
			if len(rd.Entries) > 0 {
				last := rd.Entries[len(rd.Entries)-1]
				n.StorageAck(last.Index, last.Term)
			}
			if i == l.lead {
				for _, e := range rd.Committed {
					if e.Type == raft.EntryNormal {
						applied++
					}
				}
			}
		}
		if len(l.queue) == 0 {
			if !busy {
				return applied, nil
			}
			continue
		}
		q := l.queue
		l.queue = nil
		for _, m := range q {
			_ = l.nodes[m.To-1].Step(m)
		}
	}
	return applied, fmt.Errorf("wraft: network did not settle")
}

// etcdLoop drives three etcd RawNodes over MemoryStorage.
type etcdLoop struct {
	nodes   []*etcdraft.RawNode
	storage []*etcdraft.MemoryStorage
	queue   []*raftpb.Message
	lead    int
}

func newEtcdLoop() (*etcdLoop, error) {
	l := &etcdLoop{}
	for id := uint64(1); id <= 3; id++ {
		s := etcdraft.NewMemoryStorage()
		if err := s.ApplySnapshot(&raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{Index: u64(1), Term: u64(1),
			ConfState: &raftpb.ConfState{Voters: []uint64{1, 2, 3}}}}); err != nil {
			return nil, fmt.Errorf("etcd: storage %d: %w", id, err)
		}
		rn, err := etcdraft.NewRawNode(&etcdraft.Config{ID: id, ElectionTick: 10, HeartbeatTick: 1, Storage: s,
			MaxSizePerMsg: 1 << 20, MaxInflightMsgs: 256, PreVote: true, CheckQuorum: true,
			Logger: discardLogger{}})
		if err != nil {
			return nil, fmt.Errorf("etcd: new node %d: %w", id, err)
		}
		l.nodes, l.storage = append(l.nodes, rn), append(l.storage, s)
	}
	if err := l.nodes[0].Campaign(); err != nil {
		return nil, fmt.Errorf("etcd: campaign: %w", err)
	}
	if _, err := l.settle(); err != nil {
		return nil, err
	}
	if l.nodes[0].Status().Lead != 1 {
		return nil, fmt.Errorf("etcd: node 1 did not win its campaign")
	}
	return l, nil
}

func (l *etcdLoop) propose(data [][]byte) error {
	for _, d := range data {
		if err := l.nodes[l.lead].Propose(d); err != nil {
			return fmt.Errorf("etcd: propose: %w", err)
		}
	}
	return nil
}

func (l *etcdLoop) settle() (int, error) {
	applied := 0
	for range maxSteps {
		busy := false
		for i, n := range l.nodes {
			for n.HasReady() {
				busy = true
				rd := n.Ready()
				s := l.storage[i]
				if !etcdraft.IsEmptyHardState(rd.HardState) {
					if err := s.SetHardState(rd.HardState); err != nil {
						return applied, fmt.Errorf("etcd: hard state: %w", err)
					}
				}
				if err := s.Append(rd.Entries); err != nil {
					return applied, fmt.Errorf("etcd: append: %w", err)
				}
				l.queue = append(l.queue, rd.Messages...)
				if i == l.lead {
					for _, e := range rd.CommittedEntries {
						if e.GetType() == raftpb.EntryType_EntryNormal && len(e.GetData()) > 0 {
							applied++
						}
					}
				}
				n.Advance(rd)
			}
		}
		if len(l.queue) == 0 {
			if !busy {
				return applied, nil
			}
			continue
		}
		q := l.queue
		l.queue = nil
		for _, m := range q {
			_ = l.nodes[m.GetTo()-1].Step(m)
		}
	}
	return applied, fmt.Errorf("etcd: network did not settle")
}

func u64(v uint64) *uint64 { return &v }

// discardLogger silences etcd raft's logging.
type discardLogger struct{}

func (discardLogger) Debug(...any)            {}
func (discardLogger) Debugf(string, ...any)   {}
func (discardLogger) Error(...any)            {}
func (discardLogger) Errorf(string, ...any)   {}
func (discardLogger) Info(...any)             {}
func (discardLogger) Infof(string, ...any)    {}
func (discardLogger) Warning(...any)          {}
func (discardLogger) Warningf(string, ...any) {}
func (discardLogger) Fatal(v ...any)          { panic(fmt.Sprint(v...)) }
func (discardLogger) Fatalf(f string, v ...any) {
	panic(fmt.Sprintf(f, v...))
}
func (discardLogger) Panic(v ...any)            { panic(fmt.Sprint(v...)) }
func (discardLogger) Panicf(f string, v ...any) { panic(fmt.Sprintf(f, v...)) }

// BenchmarkCommit measures one entry (264 bytes: an 8-byte key and a
// 256-byte value) proposed on the leader and committed by the three-node
// cluster. batch=1 proposes and settles one entry at a time; batch=64
// proposes 64 before settling, and ns/op is still per entry.
func BenchmarkCommit(b *testing.B) {
	libs := []struct {
		name string
		new  func() (loop, error)
	}{
		{"wraft", func() (loop, error) { return newWraftLoop() }},
		{"etcd", func() (loop, error) { return newEtcdLoop() }},
	}
	for _, batch := range []int{1, 64} {
		for _, lib := range libs {
			b.Run(fmt.Sprintf("batch=%d/%s", batch, lib.name), func(b *testing.B) {
				l, err := lib.new()
				if err != nil {
					b.Fatal(err)
				}
				data := make([][]byte, batch)
				for i := range data {
					data[i] = make([]byte, 264)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for done := 0; done < b.N; {
					n := min(batch, b.N-done)
					if err := l.propose(data[:n]); err != nil {
						b.Fatal(err)
					}
					applied, err := l.settle()
					if err != nil {
						b.Fatal(err)
					}
					if applied != n {
						b.Fatalf("applied %d entries, want %d", applied, n)
					}
					done += n
				}
			})
		}
	}
}

// TestLoops checks that both loops commit what they are given, so that the
// benchmark compares working clusters.
func TestLoops(t *testing.T) {
	w, err := newWraftLoop()
	if err != nil {
		t.Fatal(err)
	}
	e, err := newEtcdLoop()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []loop{w, e} {
		for _, batch := range []int{1, 5} {
			data := make([][]byte, batch)
			for i := range data {
				data[i] = []byte{byte(i)}
			}
			if err := l.propose(data); err != nil {
				t.Fatal(err)
			}
			applied, err := l.settle()
			if err != nil {
				t.Fatal(err)
			}
			if applied != batch {
				t.Errorf("%T: have %d applied, want %d", l, applied, batch)
			}
		}
	}
}
