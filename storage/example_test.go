package storage_test

import (
	"fmt"
	"os"

	"github.com/wraft/wraft/raft"
	"github.com/wraft/wraft/storage"
)

func Example() {
	dir, _ := os.MkdirTemp("", "wal")
	defer os.RemoveAll(dir)

	w, st, err := storage.Open(storage.Options{Dir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("new log:", len(st.Entries), "entries")

	// Carry out two Persist effects: an election, then two entries.
	_ = w.Save(raft.HardState{Term: 1, Vote: 1}, nil)
	_ = w.Save(raft.HardState{Term: 1, Vote: 1}, []raft.Entry{
		{Index: 1, Term: 1, Type: raft.EntryNoop},
		{Index: 2, Term: 1, Data: []byte("set x 1")},
	})
	// A new leader overwrites the uncommitted entry 2.
	_ = w.Save(raft.HardState{Term: 2, Vote: 3, Commit: 1}, []raft.Entry{{Index: 2, Term: 2, Data: []byte("set x 2")}})
	_ = w.Close()

	w, st, _ = storage.Open(storage.Options{Dir: dir})
	defer w.Close()
	fmt.Printf("hard state %+v\n", st.HardState)
	for _, e := range st.Entries {
		fmt.Printf("%d/%d %q\n", e.Index, e.Term, e.Data)
	}

	err = w.Save(raft.HardState{Term: 2, Vote: 3, Commit: 1}, []raft.Entry{{Index: 1, Term: 2}})
	fmt.Println(err)
	// Output:
	// new log: 0 entries
	// hard state {Term:2 Vote:3 Commit:1}
	// 1/1 ""
	// 2/2 "set x 2"
	// storage: invalid save: entries start at index 1, overwriting committed entries (commit index 1)
}

func ExampleWAL_SaveSnapshot() {
	dir, _ := os.MkdirTemp("", "wal")
	defer os.RemoveAll(dir)

	w, _, _ := storage.Open(storage.Options{Dir: dir})
	hs := raft.HardState{Term: 1, Vote: 1, Commit: 2}
	_ = w.Save(hs, []raft.Entry{{Index: 1, Term: 1}, {Index: 2, Term: 1, Data: []byte("set x 1")}, {Index: 3, Term: 1, Data: []byte("set x 2")}})
	// The state machine has applied entry 2: compact the log up to it.
	snap := raft.Snapshot{Meta: raft.SnapshotMeta{Index: 2, Term: 1, Members: []raft.Member{{ID: 1}}}, Data: []byte("x=1")}
	_ = w.SaveSnapshot(snap, true)
	_ = w.Close()

	w, st, _ := storage.Open(storage.Options{Dir: dir})
	defer w.Close()
	// What a host hands to the engine: engine.Restored{HardState:
	// st.HardState, Snapshot: st.Snapshot, Entries: st.Entries}.
	fmt.Printf("snapshot at %d: %q\n", st.Snapshot.Meta.Index, st.Snapshot.Data)
	for _, e := range st.Entries {
		fmt.Printf("%d/%d %q\n", e.Index, e.Term, e.Data)
	}
	// Output:
	// snapshot at 2: "x=1"
	// 3/1 "set x 2"
}
