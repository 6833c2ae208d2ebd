package kv

// MaxSessions is the most client sessions a Store remembers.
//
// When a command from a new client arrives and the table is full, the store
// evicts the session least recently used, where "used" means that a command
// of that client applied, or was answered from the session as a retry, and
// "recently" is measured in log indexes, never in time. Eviction therefore
// depends only on the sequence of applied commands, and every replica evicts
// the same sessions at the same index.
//
// For a client, eviction means the store forgets it: its next command is
// treated as the first of a new session. A client that was merely idle loses
// nothing. A client that is still retrying a command that already applied,
// and whose session was evicted in the meantime (because MaxSessions other
// clients issued commands since), has that command applied a second time:
// exactly-once degrades to at-least-once for that one command. A session
// survives as long as fewer than MaxSessions other clients have issued
// commands since its own last one.
//
// Each session holds its last result, including the value read by a GET or
// found by a failed CAS, so the table holds at most about
// MaxSessions × MaxValueBytes bytes of remembered values.
const MaxSessions = 10000

// session is what a Store remembers about one client.
type session struct {
	client uint64
	// seq is the Seq of the client's last command that applied.
	seq uint64
	// digest is that command's commandDigest, or 0 if not known (a session
	// restored from a version 1 snapshot).
	digest uint64
	// out is that command's outcome, returned again to a retry.
	out outcome
	// lastUsed is the log index of the last command that applied for this
	// session or was answered from it. Invariant: 0 < lastUsed <= the
	// store's applied index, and no two sessions share a lastUsed.
	lastUsed uint64
	// hash is this session's share of the store's digest.
	// Invariant: hash == hashSession(this session).
	hash uint64
	// older and newer link the sessions in order of lastUsed.
	older, newer *session
}

// outcome is a Result held by the store. Its strings cannot be changed by
// callers, so it can be kept in a session and handed out again safely.
type outcome struct {
	ok, found bool
	// hasValue tells a nil Result.Value from an empty one.
	hasValue bool
	value    string
	err      string
}

// result returns the outcome as a Result whose Value the caller owns.
func (o outcome) result() Result {
	r := Result{OK: o.ok, Found: o.found, Err: o.err}
	if o.hasValue {
		r.Value = []byte(o.value)
	}
	return r
}

// sessionTable holds the sessions by client id and in order of use.
type sessionTable struct {
	byClient map[uint64]*session
	// oldest and newest are the ends of the list in order of lastUsed:
	// oldest is the next to be evicted.
	oldest, newest *session
	// max is the most sessions kept: MaxSessions, lowered only by tests.
	max int
}

func newSessionTable(max int) sessionTable {
	return sessionTable{byClient: make(map[uint64]*session), max: max}
}

func (t *sessionTable) len() int { return len(t.byClient) }

func (t *sessionTable) get(client uint64) *session { return t.byClient[client] }

// add appends a session, which must not be in the table, as the newest.
func (t *sessionTable) add(s *session) {
	t.byClient[s.client] = s
	t.pushNewest(s)
}

// remove takes s out of the table.
func (t *sessionTable) remove(s *session) {
	delete(t.byClient, s.client)
	t.unlink(s)
}

// markNewest moves s, which is in the table, to the newest end.
func (t *sessionTable) markNewest(s *session) {
	if t.newest == s {
		return
	}
	t.unlink(s)
	t.pushNewest(s)
}

func (t *sessionTable) pushNewest(s *session) {
	s.older, s.newer = t.newest, nil
	if t.newest != nil {
		t.newest.newer = s
	} else {
		t.oldest = s
	}
	t.newest = s
}

func (t *sessionTable) unlink(s *session) {
	if s.older != nil {
		s.older.newer = s.newer
	} else {
		t.oldest = s.newer
	}
	if s.newer != nil {
		s.newer.older = s.older
	} else {
		t.newest = s.older
	}
	s.older, s.newer = nil, nil
}

// useSession records that the command at index was answered from sess.
func (s *Store) useSession(sess *session, index uint64) {
	s.sum -= sess.hash
	sess.lastUsed = index
	sess.hash = hashSession(sess)
	s.sum += sess.hash
	s.sessions.markNewest(sess)
}

// remember records out as the outcome of the client's command seq, whose
// commandDigest is digest, applied at index. sess is the client's session, or nil if it has none yet; a new
// session may evict the least recently used one.
func (s *Store) remember(sess *session, client, seq, digest uint64, out outcome, index uint64) {
	if sess == nil {
		if s.sessions.len() >= s.sessions.max {
			old := s.sessions.oldest
			s.sum -= old.hash
			s.sessions.remove(old)
		}
		sess = &session{client: client}
		s.sessions.add(sess)
	} else {
		s.sum -= sess.hash
		s.sessions.markNewest(sess)
	}
	sess.seq, sess.digest, sess.out, sess.lastUsed = seq, digest, out, index
	sess.hash = hashSession(sess)
	s.sum += sess.hash
}
