package wire

import "github.com/wraft/wraft/raft"

// AppendEvent appends ev as
//
//	u8 kind, uvarint term, uvarint peer, uvarint index, string text
func AppendEvent(b []byte, ev raft.Event) []byte {
	b = append(b, byte(ev.Kind))
	b = AppendUvarint(b, ev.Term)
	b = AppendUvarint(b, ev.Peer)
	b = AppendUvarint(b, ev.Index)
	return AppendString(b, ev.Text)
}

// ReadEvent reads an Event that AppendEvent encoded. Its Kind is not
// checked against the known kinds: events only inform, so a host shows an
// unknown kind by number rather than failing. A Text over MaxTextBytes is
// an error. It returns the zero Event if r has failed.
func ReadEvent(r *Reader) raft.Event {
	ev := raft.Event{
		Kind:  raft.EventKind(r.Byte()),
		Term:  r.Uvarint(),
		Peer:  r.Uvarint(),
		Index: r.Uvarint(),
		Text:  r.String("event text", MaxTextBytes),
	}
	if r.Err() != nil {
		return raft.Event{}
	}
	return ev
}

// minPeerStatusBytes is the size of the smallest encoded PeerStatus.
const minPeerStatusBytes = 7

// AppendStatus appends s as
//
//	uvarint id, u8 role, uvarint term, vote, leader, commit, lastIndex,
//	lastTerm, stable, snapshot, firstIndex, uvarint count of voters, a
//	uvarint for each voter, members, int alive, uvarint count of progress
//	records, each as (uvarint id, bool learner, uvarint match, next,
//	u8 state, bool active, int inflight), uvarint transferee,
//	bool preVote, bool checkQuorum
//
// where members is as AppendMembers writes them.
func AppendStatus(b []byte, s raft.Status) []byte {
	b = AppendUvarint(b, s.ID)
	b = append(b, byte(s.Role))
	b = AppendUvarint(b, s.Term)
	b = AppendUvarint(b, s.Vote)
	b = AppendUvarint(b, s.Leader)
	b = AppendUvarint(b, s.Commit)
	b = AppendUvarint(b, s.LastIndex)
	b = AppendUvarint(b, s.LastTerm)
	b = AppendUvarint(b, s.Stable)
	b = AppendUvarint(b, s.Snapshot)
	b = AppendUvarint(b, s.FirstIndex)
	b = AppendUvarint(b, uint64(len(s.Voters)))
	for _, v := range s.Voters {
		b = AppendUvarint(b, v)
	}
	b = AppendMembers(b, s.Members)
	b = AppendInt(b, s.Alive)
	b = AppendUvarint(b, uint64(len(s.Progress)))
	for _, p := range s.Progress {
		b = AppendUvarint(b, p.ID)
		b = AppendBool(b, p.Learner)
		b = AppendUvarint(b, p.Match)
		b = AppendUvarint(b, p.Next)
		b = append(b, byte(p.State))
		b = AppendBool(b, p.Active)
		b = AppendInt(b, p.Inflight)
	}
	b = AppendUvarint(b, s.Transferee)
	b = AppendBool(b, s.PreVote)
	return AppendBool(b, s.CheckQuorum)
}

// ReadStatus reads a Status that AppendStatus encoded. An unknown role or
// progress state, more than MaxVoters voters, members or progress records,
// and a member's Addr over MaxAddrBytes are errors. Empty lists decode as nil. It returns the zero Status if r has
// failed.
func ReadStatus(r *Reader) raft.Status {
	var s raft.Status
	s.ID = r.Uvarint()
	at := r.Offset()
	s.Role = raft.Role(r.Byte())
	if r.Err() == nil && s.Role > raft.RoleLeader {
		r.Invalid(at, "has unknown role "+itoa(int(s.Role)))
	}
	s.Term = r.Uvarint()
	s.Vote = r.Uvarint()
	s.Leader = r.Uvarint()
	s.Commit = r.Uvarint()
	s.LastIndex = r.Uvarint()
	s.LastTerm = r.Uvarint()
	s.Stable = r.Uvarint()
	s.Snapshot = r.Uvarint()
	s.FirstIndex = r.Uvarint()
	if n := r.Count("voters", MaxVoters, 1); n > 0 {
		s.Voters = make([]uint64, n)
		for i := range s.Voters {
			s.Voters[i] = r.Uvarint()
		}
	}
	s.Members = ReadMembers(r)
	s.Alive = r.Int()
	if n := r.Count("progress", MaxVoters, minPeerStatusBytes); n > 0 {
		s.Progress = make([]raft.PeerStatus, n)
		for i := range s.Progress {
			p := &s.Progress[i]
			p.ID = r.Uvarint()
			p.Learner = r.Bool()
			p.Match = r.Uvarint()
			p.Next = r.Uvarint()
			at := r.Offset()
			p.State = raft.ProgressState(r.Byte())
			if r.Err() == nil && p.State > raft.ProgressSnapshot {
				r.Invalid(at, "has unknown progress state "+itoa(int(p.State)))
			}
			p.Active = r.Bool()
			p.Inflight = r.Int()
		}
	}
	s.Transferee = r.Uvarint()
	s.PreVote = r.Bool()
	s.CheckQuorum = r.Bool()
	if r.Err() != nil {
		return raft.Status{}
	}
	return s
}
