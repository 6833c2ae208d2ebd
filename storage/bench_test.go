package storage

import (
	"sync"
	"testing"

	"github.com/wraft/wraft/raft"
)

// BenchmarkSave saves one 256-byte entry at a time, each fsynced before
// the next: the latency of one durable save, and the disk's fsync rate.
func BenchmarkSave(b *testing.B) {
	for _, tt := range []struct {
		name   string
		noSync bool
	}{{"fsync", false}, {"nosync", true}} {
		b.Run(tt.name, func(b *testing.B) {
			w, _ := openT(b, Options{Dir: b.TempDir(), NoSync: tt.noSync})
			defer closeT(b, w)
			data := make([]byte, 256)
			before := w.syncs.Load()
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			for i := uint64(1); i <= uint64(b.N); i++ {
				e := []raft.Entry{{Index: i, Term: 1, Data: data}}
				if err := w.Save(raft.HardState{Term: 1, Vote: 1, Commit: i - 1}, e); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(w.syncs.Load()-before)/b.Elapsed().Seconds(), "fsyncs/s")
		})
	}
}

// BenchmarkSaveConcurrent has 64 savers each save one 256-byte entry at a
// time, enqueueing in index order and waiting apart, as a host that
// pipelines Persist effects does: group commit's throughput.
func BenchmarkSaveConcurrent(b *testing.B) {
	const savers = 64
	w, _ := openT(b, Options{Dir: b.TempDir()})
	defer closeT(b, w)
	data := make([]byte, 256)
	var (
		mu   sync.Mutex
		next uint64 = 1
		wg   sync.WaitGroup
	)
	before := w.syncs.Load()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range savers {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				if i > uint64(b.N) {
					mu.Unlock()
					return
				}
				next++
				tk, err := w.Enqueue(raft.HardState{Term: 1, Vote: 1, Commit: i - 1}, []raft.Entry{{Index: i, Term: 1, Data: data}})
				mu.Unlock()
				if err == nil {
					err = tk.Wait()
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	syncs := w.syncs.Load() - before
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	b.ReportMetric(float64(syncs)/b.Elapsed().Seconds(), "fsyncs/s")
	b.ReportMetric(float64(b.N)/float64(max(syncs, 1)), "entries/fsync")
}

// BenchmarkOpen replays a log of 100,000 entries of 256 bytes.
func BenchmarkOpen(b *testing.B) {
	dir := b.TempDir()
	opts := Options{Dir: dir, NoSync: true, SegmentBytes: 8 << 20}
	w, _ := openT(b, opts)
	data := make([]byte, 256)
	const n = 100_000
	for i := uint64(1); i <= n; i += 100 {
		var es []raft.Entry
		for j := range uint64(100) {
			es = append(es, raft.Entry{Index: i + j, Term: 1, Data: data})
		}
		if err := w.Save(raft.HardState{Term: 1, Commit: i - 1}, es); err != nil {
			b.Fatal(err)
		}
	}
	closeT(b, w)
	b.SetBytes(n * 256)
	b.ResetTimer()
	for range b.N {
		w, st := openT(b, opts)
		if len(st.Entries) != n {
			b.Fatalf("%d entries", len(st.Entries))
		}
		closeT(b, w)
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "entries/s")
}
