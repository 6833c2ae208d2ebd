package storage

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/wraft/wraft/raft"
)

// SaveSnapshot carries out one SaveSnapshot effect and returns once it is
// durable: it writes snap to its own file and then, in order with the
// saves enqueued before it, a mark in the log that drops the stored entries
// up to snap's index, and every entry after it as well unless keepLog.
// With keepLog and a log that ends before snap's index (the snapshot
// covers entries never stored), the log is left empty at that index: the
// next save starts right after it. With keepLog and a stored entry at
// snap's index of another term than snap's, the entries after it belong to
// another history and go too.
//
// Once the mark is durable, SaveSnapshot keeps the two newest snapshots
// and deletes older snapshot files, and the segments that hold only
// entries the older of the two covers (so that Open can fall back to it
// if the newest is damaged). A failure to delete is logged, not returned.
// SaveSnapshot does not keep snap.Data.
//
// SaveSnapshot fails with ErrInvalid, writing nothing, for a snapshot of
// index or term 0, older than the previous one (a lower index, or a lower
// term), or that drops committed entries (keepLog false and an index below
// the commit index); with ErrClosed after Close; and with the write or
// fsync error, as Save does.
func (w *WAL) SaveSnapshot(snap raft.Snapshot, keepLog bool) error {
	w.snapMu.Lock()
	defer w.snapMu.Unlock()
	w.mu.Lock()
	_, err := w.checkSnapshot(snap.Meta, keepLog)
	w.mu.Unlock()
	if err != nil {
		return err
	}
	if err := w.writeSnapshot(snap); err != nil {
		return err
	}
	file := snapFile{snap.Meta.Index, snap.Meta.Term}

	w.mu.Lock()
	m, err := w.checkSnapshot(snap.Meta, keepLog)
	if err != nil {
		// A save enqueued meanwhile changed the log. The file never took
		// effect (Open would remove it), unless it replaced the current
		// snapshot's file with an equal one.
		if w.state.snap != file.index {
			_ = w.removeFile(file.name())
		}
		w.mu.Unlock()
		return err
	}
	w.pending = appendMarkRecord(w.pending, m)
	w.state.applyMark(m)
	t := Ticket{w: w, batch: w.nextBatch}
	w.mu.Unlock()

	if err := t.Wait(); err != nil {
		return err
	}
	w.log.Debug("storage: snapshot saved", "index", m.index, "term", m.term, "keepLog", m.keep, "bytes", len(snap.Data))
	w.mu.Lock()
	closed := w.closed
	w.mu.Unlock()
	if !closed { // else the directory is no longer ours to clean
		w.removeOld(file)
	}
	return nil
}

// checkSnapshot returns the mark that a snapshot of meta makes, or why it
// cannot follow the log. The caller holds mu.
func (w *WAL) checkSnapshot(meta raft.SnapshotMeta, keepLog bool) (mark, error) {
	switch {
	case w.closed:
		return mark{}, ErrClosed
	case w.err != nil:
		return mark{}, w.err
	}
	m := mark{index: meta.Index, term: meta.Term, keep: w.state.effectiveKeep(meta.Index, meta.Term, keepLog), hs: w.state.hs}
	if err := w.state.checkMark(m); err != nil {
		return mark{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return m, nil
}

// removeOld deletes, after the snapshot newest is durable, the snapshot
// files older than the two newest, and the segments before the newest
// whose entries the older of the two covers: segment i goes if segment
// i+1 exists and begins at or below that snapshot's index + 1 (when
// segment i+1 was made, the log ended at its first index - 1, and no
// later save can rewrite what a snapshot covers). Segments go oldest
// first, each removal fsynced, so that a crash leaves no gap. Errors are
// logged.
func (w *WAL) removeOld(newest snapFile) {
	snaps, _, err := listSnapshots(w.dir)
	if err != nil {
		w.log.Warn("storage: cannot list snapshots to remove old ones", "err", err)
		return
	}
	var kept []snapFile
	var remove []snapFile
	for _, s := range snaps {
		switch {
		case s.index > newest.index:
			// None such: Open removes snapshots newer than the newest mark.
		case len(kept) < 2:
			kept = append(kept, s)
		default:
			remove = append(remove, s)
		}
	}
	if len(kept) == 2 {
		w.removeSegmentsUpTo(kept[1].index)
	}
	for _, s := range remove {
		if err := w.removeFile(s.name()); err != nil {
			w.log.Warn("storage: cannot remove an old snapshot", "file", filepath.Join(w.dir, s.name()), "err", err)
			return
		}
		w.log.Debug("storage: removed old snapshot", "file", filepath.Join(w.dir, s.name()))
	}
}

// removeSegmentsUpTo deletes the segments, never the newest, that hold
// only entries at or below index.
func (w *WAL) removeSegmentsUpTo(index uint64) {
	segs, _, err := listSegments(w.dir)
	if err != nil {
		w.log.Warn("storage: cannot list segments to remove old ones", "err", err)
		return
	}
	for i := 0; i+1 < len(segs) && segs[i+1].first-1 <= index; i++ {
		path := filepath.Join(w.dir, segs[i].name())
		if err := os.Remove(path); err != nil {
			w.log.Warn("storage: cannot remove an old segment", "file", path, "err", err)
			return
		}
		if err := w.syncDir(w.dir); err != nil {
			w.log.Warn("storage: cannot remove an old segment", "file", path, "err", err)
			return
		}
		w.log.Debug("storage: removed old segment", "file", path)
	}
}
