package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/wraft/wraft/raft"
)

// DefaultSegmentBytes is the segment size used when Options.SegmentBytes
// is 0.
const DefaultSegmentBytes = 64 << 20

// maxSpareBytes is the largest write buffer kept for reuse after a flush.
const maxSpareBytes = 4 << 20

// Options configures Open.
type Options struct {
	// Dir is the directory of the log. Open creates it (mode 0700) if it
	// is missing, and fsyncs its parent when it does.
	Dir string
	// SegmentBytes is the size beyond which the log moves on to a new
	// segment file; 0 means DefaultSegmentBytes. A segment can exceed it by
	// one group commit, since saves never straddle two segments. Each
	// segment file is preallocated to SegmentBytes where the platform and
	// filesystem can (Linux fallocate), so that a save changes no file
	// size and needs only an fdatasync.
	SegmentBytes int64
	// NoSync skips every fsync, of files and directories. FOR TESTS ONLY:
	// with NoSync, a Save that returned nil survives the death of the
	// process (the kernel holds the data) but NOT the loss of power or a
	// kernel crash. Never set it in a node that holds data you care about.
	NoSync bool
	// Logger receives warnings (a torn tail repaired, a damaged snapshot
	// set aside) and debug messages.
	// Nil discards them.
	Logger *slog.Logger

	// noPrealloc makes the WAL behave as where the filesystem cannot
	// preallocate (tests only).
	noPrealloc bool
}

// State is what a WAL holds: the hard state of the last save, the newest
// snapshot, and the log after it. Open returns it; the caller owns it. A
// host hands it to the engine as engine.Restored{HardState: st.HardState,
// Snapshot: st.Snapshot, Entries: st.Entries}.
type State struct {
	HardState raft.HardState
	// Snapshot is the newest snapshot that took effect and reads back
	// whole, or nil if there is none.
	Snapshot *raft.Snapshot
	// Entries follow the snapshot: Entries[i].Index == i+1+Snapshot's
	// index (or i+1 without a snapshot).
	Entries []raft.Entry
}

// WAL is an open write-ahead log. Its methods are safe for concurrent use.
type WAL struct {
	dir          string
	segmentBytes int64
	noSync       bool
	log          *slog.Logger
	lock         *os.File
	// maxPayload is the largest record payload Save writes, above which it
	// splits a save into part records: maxPayloadBytes, lowered by tests.
	maxPayload int
	// syncs counts fsync and fdatasync calls (of files and directories),
	// for tests and benchmarks; dataSyncs counts the fdatasyncs among them.
	syncs, dataSyncs atomic.Uint64
	// onFlush, if set (by tests), runs at the start of each flush, after
	// the batch is taken and before it is written, without mu held.
	onFlush func()

	// snapMu makes SaveSnapshot calls one at a time; taken before mu.
	snapMu sync.Mutex

	mu   sync.Mutex
	cond sync.Cond // L is &mu; signalled when a flush ends
	// state is the log as of every save enqueued, durable or not.
	state logState
	// pending holds the records enqueued since the last flush began; they
	// form batch nextBatch. spare is an empty buffer to swap in.
	pending, spare []byte
	// nextBatch numbers the batch pending will form; batches are written
	// in number order. Invariant: synced < nextBatch; every save of a
	// batch <= synced is durable.
	nextBatch, synced uint64
	// flushing says that a goroutine is writing a batch. While it is, it
	// alone may use the segment fields below, without holding mu.
	flushing bool
	// err, once set, fails every later save: after a failed write or fsync
	// the file's contents are unknown. Close and Open again to recover.
	err    error
	closed bool

	// The newest segment, open for writing. size is where its data ends
	// and the next record goes; fileSize is the file's size. Invariant:
	// size <= fileSize, and the bytes from size on are zeros (the
	// preallocated tail, which replay reads as the end of the data).
	seg            segment
	f              *os.File
	size, fileSize int64
	// prealloc says to preallocate each segment to segmentBytes; cleared
	// for good once the filesystem refuses. Only whoever may use the
	// segment fields may use it.
	prealloc bool
	// file is what the hard-state file holds, if haveFile. Invariant: its
	// hard state is that of some durable save, at or before the last, and
	// its seq at most the newest segment's; its term and vote are the last
	// durable save's once that save's Wait returns. Only whoever may use
	// the segment fields may use them.
	file     hardStateRecord
	haveFile bool
}

// Ticket stands for a save that Enqueue accepted; Wait waits until it is
// durable.
type Ticket struct {
	w     *WAL
	batch uint64
}

// Open opens the log in opts.Dir, creating it if needed, and returns what it
// holds. It repairs a torn tail (an incomplete last record of the newest
// segment), removes temporary files and snapshots that never took effect,
// brings a lagging hard-state file up to date, and falls back to the
// previous snapshot if the newest is damaged (see the package
// documentation). It fails with a *CorruptError, wrapping ErrCorrupt, on
// any other damage, such as a segment that is missing, empty, zeroed or
// cut, or a log behind what the hard-state file says was durable; with
// ErrLocked if another WAL has the directory open.
func Open(opts Options) (*WAL, State, error) {
	if opts.Dir == "" {
		return nil, State{}, errors.New("storage: no directory given")
	}
	if opts.SegmentBytes < 0 {
		return nil, State{}, fmt.Errorf("storage: negative segment size %d", opts.SegmentBytes)
	}
	w := &WAL{
		dir:          opts.Dir,
		segmentBytes: opts.SegmentBytes,
		noSync:       opts.NoSync,
		log:          opts.Logger,
		maxPayload:   maxPayloadBytes,
		nextBatch:    1,
		prealloc:     !opts.noPrealloc,
	}
	if w.segmentBytes == 0 {
		w.segmentBytes = DefaultSegmentBytes
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	w.cond.L = &w.mu
	st, err := w.open()
	if err != nil {
		if w.f != nil {
			_ = w.f.Close()
		}
		if w.lock != nil {
			_ = w.lock.Close()
		}
		return nil, State{}, err
	}
	return w, st, nil
}

func (w *WAL) open() (State, error) {
	_, err := os.Stat(w.dir)
	created := errors.Is(err, fs.ErrNotExist)
	if err := os.MkdirAll(w.dir, 0o700); err != nil {
		return State{}, fmt.Errorf("storage: %w", err)
	}
	if created {
		if err := w.syncDir(filepath.Dir(filepath.Clean(w.dir))); err != nil {
			return State{}, err
		}
	}
	if err := w.lockDir(); err != nil {
		return State{}, err
	}
	segs, tmps, err := listSegments(w.dir)
	if err != nil {
		return State{}, err
	}
	snaps, snapTmps, err := listSnapshots(w.dir)
	if err != nil {
		return State{}, err
	}
	if _, err := os.Lstat(filepath.Join(w.dir, HardStateFile+tmpSuffix)); err == nil {
		tmps = append(tmps, HardStateFile+tmpSuffix)
	}
	for _, name := range append(tmps, snapTmps...) {
		w.log.Warn("storage: removing unfinished file", "file", filepath.Join(w.dir, name))
		if err := os.Remove(filepath.Join(w.dir, name)); err != nil {
			return State{}, fmt.Errorf("storage: %w", err)
		}
	}
	if len(tmps)+len(snapTmps) > 0 {
		if err := w.syncDir(w.dir); err != nil {
			return State{}, err
		}
	}
	if len(segs) == 0 && len(snaps) > 0 {
		return State{}, &CorruptError{Path: filepath.Join(w.dir, snaps[0].name()), Offset: 0,
			Reason: "snapshot files but no log segment: the log was deleted"}
	}
	r := replay{w: w, state: logState{retain: true}, first: 1, haveSnaps: len(snaps) > 0}
	if err := r.run(segs); err != nil {
		return State{}, err
	}
	if err := w.checkHardState(&r, segs); err != nil {
		return State{}, err
	}
	snap, err := r.chooseSnapshot(snaps)
	if err != nil {
		return State{}, err
	}
	st := &r.state
	var rebase *mark
	if s := snapFileOf(snap); s.index != st.snap || s.term != st.snapTerm {
		rebase = r.fallback(snap)
		if w.haveFile && w.file.hs.Commit > rebase.hs.Commit {
			// Lower the file's commit index first: a crash before the
			// rebase mark is durable leaves a file that lags the log.
			if err := w.writeHardStateFile(hardStateRecord{hs: rebase.hs, seq: w.file.seq}); err != nil {
				return State{}, err
			}
		}
	}

	if r.haveLast {
		w.seg, w.size = r.lastSeg, r.lastSize
		path := filepath.Join(w.dir, w.seg.name())
		if w.f, err = os.OpenFile(path, os.O_WRONLY, 0); err != nil {
			return State{}, fmt.Errorf("storage: %w", err)
		}
		fi, err := w.f.Stat()
		if err != nil {
			return State{}, fmt.Errorf("storage: %w", err)
		}
		w.fileSize = fi.Size()
	} else {
		// A new log: the hard-state file comes first, so that a
		// directory whose log has a version 3 header always has one.
		if err := w.writeHardStateFile(hardStateRecord{hs: st.hs, seq: r.nextSeq}); err != nil {
			return State{}, err
		}
		h := st.nextHeader()
		h.seq, h.prevSize = r.nextSeq, r.prevSize
		w.seg = segment{seq: h.seq, first: h.first}
		if w.f, w.size, w.fileSize, err = w.createSegment(h); err != nil {
			return State{}, err
		}
	}
	if rebase != nil {
		if err := w.append(appendMarkRecord(nil, *rebase)); err != nil {
			return State{}, err
		}
		st.applyMark(*rebase)
	}
	// Snapshots newer than the one in force never took effect (a crash
	// came before their mark), or were set aside by a fallback.
	for _, s := range snaps {
		if s.index > st.snap {
			w.log.Warn("storage: removing a snapshot the log does not use", "file", filepath.Join(w.dir, s.name()))
			if err := w.removeFile(s.name()); err != nil {
				return State{}, err
			}
		}
	}

	var ents []raft.Entry
	if st.snap >= st.base {
		ents = st.ents[st.snap-st.base:]
		if st.snap > st.base {
			ents = slices.Clone(ents)
		}
	}
	if len(ents) == 0 {
		ents = nil
	}
	st.compactTo()
	w.state = *st
	if !w.haveFile || hardStateBehind(w.file.hs, w.state.hs) || w.file.seq != w.seg.seq {
		// A crash came after a save that changed the term or vote was
		// durable and before the file was rewritten (or after a new
		// segment), or the log was written by a version without the file.
		if err := w.writeHardStateFile(hardStateRecord{hs: w.state.hs, seq: w.seg.seq}); err != nil {
			return State{}, err
		}
	}
	if w.size >= w.segmentBytes {
		if err := w.rotate(w.state.nextHeader()); err != nil {
			return State{}, err
		}
	}
	w.log.Info("storage: opened", "dir", w.dir, "segments", len(segs), "snapshot", w.state.snap, "entries", len(ents),
		"term", w.state.hs.Term, "commit", w.state.hs.Commit)
	return State{HardState: w.state.hs, Snapshot: snap, Entries: ents}, nil
}

// Save carries out one Persist effect and returns once it is durable
// (fsynced): if ents is not empty, it deletes every stored entry whose index
// is ents[0].Index or above and appends ents; then it stores hs. The save
// lands whole or not at all. Saves from concurrent callers are applied in
// the order they take the WAL's lock and share fsyncs (group commit). Save
// does not keep ents or their Data.
//
// Save fails with ErrInvalid, writing nothing, if the save breaks the log's
// rules; with ErrClosed after Close; and with the write or fsync error
// (then and for every later save) if the disk fails, in which case the save
// may or may not be durable.
func (w *WAL) Save(hs raft.HardState, ents []raft.Entry) error {
	t, err := w.Enqueue(hs, ents)
	if err != nil {
		return err
	}
	return t.Wait()
}

// Enqueue checks a save as Save does and queues it to be written, behind
// every save enqueued before, but does not wait: the returned Ticket's Wait
// does. A host can so enqueue the Persist effects of several engine steps
// in a row and wait for each before it sends the messages that follow it;
// one fsync then covers them all. Enqueue does not keep ents or their Data.
// Queued saves are written when some Wait, Save or Close needs them.
func (w *WAL) Enqueue(hs raft.HardState, ents []raft.Entry) (Ticket, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.closed:
		return Ticket{}, ErrClosed
	case w.err != nil:
		return Ticket{}, w.err
	}
	if err := w.state.check(hs, ents); err != nil {
		return Ticket{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	w.pending = appendSave(w.pending, hs, ents, w.maxPayload)
	w.state.apply(hs, ents)
	return Ticket{w: w, batch: w.nextBatch}, nil
}

// Wait returns nil once the save is durable, or the error that stopped it.
// It may be called more than once, from any goroutine. On the zero Ticket
// it returns nil.
func (t Ticket) Wait() error {
	w := t.w
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.synced < t.batch {
		switch {
		case w.err != nil:
			return w.err
		case w.flushing:
			w.cond.Wait()
		default:
			w.flushLocked()
		}
	}
	return nil
}

// Close writes and fsyncs the saves still queued, then closes the files.
// Saves after Close fail with ErrClosed; so does a second Close.
func (w *WAL) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	w.closed = true
	for w.flushing || (len(w.pending) > 0 && w.err == nil) {
		if w.flushing {
			w.cond.Wait()
		} else {
			w.flushLocked()
		}
	}
	err := w.err
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("storage: %w", cerr)
	}
	if cerr := w.lock.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("storage: %w", cerr)
	}
	return err
}

// flushLocked writes and fsyncs the pending batch. It is called with mu held
// and no flush running; it releases mu during the I/O, while other callers
// go on enqueueing into a fresh buffer.
func (w *WAL) flushLocked() {
	buf := w.pending
	w.pending, w.spare = w.spare[:0], nil
	batch := w.nextBatch
	w.nextBatch++
	next := w.state.nextHeader() // the state at the end of buf
	w.flushing = true
	w.mu.Unlock()

	if w.onFlush != nil {
		w.onFlush()
	}
	durable, err := w.write(buf, next)

	w.mu.Lock()
	w.flushing = false
	if cap(buf) <= maxSpareBytes {
		w.spare = buf[:0]
	}
	if durable {
		w.synced = batch
	}
	if err != nil && w.err == nil {
		w.err = err
		w.log.Error("storage: write failed; saves will fail until the log is reopened", "err", err)
	}
	w.cond.Broadcast()
}

// write appends buf to the newest segment and fsyncs it, then, if the
// term or vote changed, rewrites the hard-state file, and then moves on to
// a new segment if this one is full; next is the header a new segment
// takes (the log at the end of buf). Durable reports whether buf is on
// disk (and the hard-state file up to date), even if err reports a failure
// to rotate.
func (w *WAL) write(buf []byte, next segmentHeader) (durable bool, err error) {
	if err := w.append(buf); err != nil {
		return false, err
	}
	// Only after the saves are durable: the file may lag the log, never
	// lead it. A term or vote changes rarely (an election), so this costs
	// nothing on the hot path.
	if !w.haveFile || hardStateBehind(w.file.hs, next.hs) {
		if err := w.writeHardStateFile(hardStateRecord{hs: next.hs, seq: w.seg.seq}); err != nil {
			return false, err
		}
	}
	if w.size >= w.segmentBytes {
		return true, w.rotate(next)
	}
	return true, nil
}

// append writes buf at the end of the newest segment's data and makes it
// durable: with fdatasync if the file's size stays as it was (buf lands in
// the preallocated tail), with a full fsync if it changes. A segment
// shorter than segmentBytes (one that Open cut back, or one written before
// segments were preallocated) is preallocated first, unless buf fills it.
func (w *WAL) append(buf []byte) error {
	end := w.size + int64(len(buf))
	grown := false
	if w.fileSize < w.segmentBytes && end < w.segmentBytes && w.prealloc {
		fileSize, err := w.preallocateSegment(w.f, w.fileSize)
		if err != nil {
			return err
		}
		w.fileSize, grown = fileSize, true
	}
	if _, err := w.f.WriteAt(buf, w.size); err != nil {
		return fmt.Errorf("storage: write %s: %w", w.f.Name(), err)
	}
	w.size = end
	if end > w.fileSize {
		w.fileSize, grown = end, true
	}
	if grown {
		return w.syncFile(w.f)
	}
	return w.syncData(w.f)
}

// rotate moves on to a new segment, with header h (its seq and previous
// size filled in here). The current segment must be fully synced. A zero
// tail left in it (only if SegmentBytes was lowered since it was
// preallocated) is cut once the new segment is in place, so that every
// segment but the newest ends with its records; not before, since a
// newest segment shorter than its preallocation reads as cut (a crash in
// between leaves an older segment with zeros after its records, which the
// next segment's header, holding the size of its records, accounts for).
func (w *WAL) rotate(h segmentHeader) error {
	h.seq, h.prevSize = w.seg.seq+1, w.size
	next := segment{seq: h.seq, first: h.first}
	f, size, fileSize, err := w.createSegment(h)
	if err != nil {
		return err
	}
	// The hard-state file learns that segment h.seq exists (a newest
	// segment removed since is then noticed) and the commit index now.
	if err := w.writeHardStateFile(hardStateRecord{hs: h.hs, seq: h.seq}); err != nil {
		_ = f.Close()
		return err
	}
	old, oldSize, oldFileSize := w.f, w.size, w.fileSize
	w.seg, w.f, w.size, w.fileSize = next, f, size, fileSize
	w.log.Debug("storage: new segment", "file", f.Name())
	if oldFileSize > oldSize {
		err = old.Truncate(oldSize)
		if err != nil {
			err = fmt.Errorf("storage: %w", err)
		} else {
			err = w.syncFile(old)
		}
	}
	if cerr := old.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("storage: %w", cerr)
	}
	return err
}

// checkHardState reads the hard-state file and compares it with the log
// that replay r rebuilt from segs: a log behind the file lost durable
// saves. A file missing where the log was written by a WAL that keeps one
// (a version 3 header) was removed. Either is a *CorruptError naming the
// hard-state file. It sets w.fileHS.
func (w *WAL) checkHardState(r *replay, segs []segment) error {
	path := filepath.Join(w.dir, HardStateFile)
	rec, ok, err := readHardStateFile(w.dir)
	if err != nil {
		return err
	}
	newest := "no segment"
	if len(segs) > 0 {
		newest = filepath.Join(w.dir, segs[len(segs)-1].name())
	}
	if !ok {
		if r.sawV3 {
			return &CorruptError{Path: path, Offset: 0,
				Reason: "the hard-state file is missing, but the log (newest segment " + newest +
					") was written with one: it was removed, and the term and vote it kept are unknown"}
		}
		return nil
	}
	w.file, w.haveFile = rec, true
	if len(segs) > 0 && segs[len(segs)-1].seq < rec.seq || len(segs) == 0 && rec.seq > 0 {
		return &CorruptError{Path: path, Offset: 0, Reason: fmt.Sprintf(
			"segment %d was made, but the newest segment is %s: segments were removed, and the saves they held are lost", rec.seq, newest)}
	}
	if reason := checkHardStateFile(rec, r.state.hs, max(r.state.last(), r.state.snap)); reason != "" {
		return &CorruptError{Path: path, Offset: 0, Reason: reason + " (newest segment " + newest + ")"}
	}
	return nil
}
