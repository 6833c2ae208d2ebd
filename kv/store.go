// Package kv is the replicated key-value state machine: SET, GET, DEL and
// CAS on string keys and byte values, client sessions for exactly-once
// apply, and deterministic snapshots.
//
// A Store is deterministic: its state, its results, its snapshots and its
// digest depend only on the commands applied and their log indexes. It does
// no I/O, reads no clock and starts no goroutines, so it runs unchanged
// inside raft.wasm.
package kv

import (
	"errors"
	"strconv"
)

// Result.Err of a CAS that did not take effect.
const (
	errCASDiffers = "cas: value differs"
	errCASMissing = "cas: key not found"
	errCASExists  = "cas: key exists"
)

// Store is the key-value state machine of one replica. Commands change it
// only through Apply, in log order; Restore replaces it whole.
//
// A Store is not safe for concurrent use.
type Store struct {
	data map[string]entry
	// sessions remembers, per client, the last command applied and its
	// outcome.
	sessions sessionTable
	// applied is the index of the last log entry consumed by Apply, or the
	// index of the restored snapshot.
	applied uint64
	// sum is the order-independent part of the digest.
	// Invariant: sum == Σ entry.hash over data + Σ session.hash over
	// sessions (mod 2^64).
	sum uint64
}

// entry is one stored value. Values are held as strings so that no caller
// can change them through a slice it was given.
type entry struct {
	value string
	// hash is this entry's share of the digest.
	// Invariant: hash == hashEntry(key, value).
	hash uint64
}

// New returns an empty store with nothing applied.
func New() *Store {
	return &Store{
		data:     make(map[string]entry),
		sessions: newSessionTable(MaxSessions),
	}
}

// ErrSessionReused is what Result.Err begins with when a command reuses
// its session's last sequence number with a different command (see
// Apply); Result.SessionReused reports it.
var ErrSessionReused = errors.New("kv: session: sequence reused with a different command")

// SessionReused reports whether r refuses a command that reused its
// session's last sequence number with a different command.
func (r Result) SessionReused() bool {
	p := ErrSessionReused.Error()
	return !r.OK && len(r.Err) >= len(p) && r.Err[:len(p)] == p
}

// Apply applies the command c, committed at log index index, and returns its
// result.
//
// Indexes must increase from call to call (they need not be contiguous: log
// entries that carry no command are skipped). If index is not above Applied,
// Apply changes nothing and returns a Result whose Err says so; a replayed
// entry is thus harmless.
//
// An invalid command (see Validate) consumes its index, so Applied becomes
// index, but changes no key and no session: Apply returns Result{Err: ...}
// with the validation error's message.
//
// With a non-zero ClientID, the command belongs to a session. If its Seq is
// the session's last and the command is the same (equal op, key, value,
// expectation; nil and empty alike), it is a retry: Apply returns the
// result the first application returned and applies nothing. If its Seq
// is the session's last but the command differs, Apply refuses it with OK
// false and Err "kv: session: sequence reused with a different command
// (client C, sequence S)" (see ErrSessionReused), and changes nothing but
// the applied index: exactly-once never answers a command with another's
// result. (The session remembers a 64-bit digest of its last command; a
// session restored from a snapshot of format version 1, which has none,
// takes any command with its last Seq as a retry.) If its Seq is below the
// session's last, the command is stale: Apply refuses it with OK false and
// Err "kv: stale sequence number S (session at L)". Otherwise the command
// applies and its result is remembered. See MaxSessions for how long.
//
// The operations, on success (OK true, Err empty):
//   - SET stores Value under Key. Found reports whether Key existed.
//   - GET changes nothing. Found reports whether Key exists and Value is its
//     value (nil when missing).
//   - DEL removes Key. Found reports whether Key existed; deleting a missing
//     key succeeds.
//   - CAS stores Value under Key if Key exists with a value equal to Expect
//     (nil and empty Expect are equal), or with ExpectMissing, if Key does
//     not exist. Found reports whether Key existed.
//
// A CAS whose condition fails changes nothing and returns OK false, Found
// and Value describing the key as it is, and Err "cas: value differs",
// "cas: key not found" or "cas: key exists" (with ExpectMissing).
//
// The returned Value is the caller's to keep and modify.
func (s *Store) Apply(index uint64, c Command) Result {
	if index <= s.applied {
		return Result{Err: "kv: index " + strconv.FormatUint(index, 10) +
			" not above applied index " + strconv.FormatUint(s.applied, 10)}
	}
	s.applied = index
	if err := Validate(c); err != nil {
		return Result{Err: err.Error()}
	}
	if c.ClientID == 0 {
		return s.exec(c).result()
	}
	sess := s.sessions.get(c.ClientID)
	if sess != nil {
		switch {
		case c.Seq == sess.seq && sess.digest != 0 && sess.digest != commandDigest(c):
			return Result{Err: ErrSessionReused.Error() + " (client " + strconv.FormatUint(c.ClientID, 10) +
				", sequence " + strconv.FormatUint(c.Seq, 10) + ")"}
		case c.Seq == sess.seq:
			s.useSession(sess, index)
			return sess.out.result()
		case c.Seq < sess.seq:
			return Result{Err: "kv: stale sequence number " + strconv.FormatUint(c.Seq, 10) +
				" (session at " + strconv.FormatUint(sess.seq, 10) + ")"}
		}
	}
	out := s.exec(c)
	s.remember(sess, c.ClientID, c.Seq, commandDigest(c), out, index)
	return out.result()
}

// exec carries out the valid command c on the data.
func (s *Store) exec(c Command) outcome {
	old, found := s.data[c.Key]
	switch c.Op {
	case OpGet:
		return outcome{ok: true, found: found, hasValue: found, value: old.value}
	case OpSet:
		s.put(c.Key, c.Value, old, found)
		return outcome{ok: true, found: found}
	case OpDel:
		if found {
			s.sum -= old.hash
			delete(s.data, c.Key)
		}
		return outcome{ok: true, found: found}
	case OpCAS:
		switch {
		case c.ExpectMissing && found:
			return outcome{found: true, hasValue: true, value: old.value, err: errCASExists}
		case c.ExpectMissing:
		case !found:
			return outcome{err: errCASMissing}
		case old.value != string(c.Expect):
			return outcome{found: true, hasValue: true, value: old.value, err: errCASDiffers}
		}
		s.put(c.Key, c.Value, old, found)
		return outcome{ok: true, found: found}
	}
	// Unreachable: Validate refused every other op.
	return outcome{err: ErrUnknownOp.Error()}
}

// put stores value under key, whose current entry is old if found.
func (s *Store) put(key string, value []byte, old entry, found bool) {
	if found {
		s.sum -= old.hash
	}
	e := entry{value: string(value)}
	e.hash = hashEntry(key, e.value)
	s.data[key] = e
	s.sum += e.hash
}

// Get returns the value stored under key and whether it exists, for reads
// served outside the log (ReadIndex). The value is a copy that the caller
// owns; it is non-nil (perhaps empty) if and only if found is true.
func (s *Store) Get(key string) (value []byte, found bool) {
	e, ok := s.data[key]
	if !ok {
		return nil, false
	}
	return []byte(e.value), true
}

// Len returns the number of keys stored.
func (s *Store) Len() int { return len(s.data) }

// Applied returns the index of the last log entry Apply consumed, or the
// index a restored snapshot was taken at; 0 for a new store.
func (s *Store) Applied() uint64 { return s.applied }

// Digest returns a 64-bit hash of the store's full state: keys and values,
// sessions, and the applied index. Replicas that applied the same commands
// have the same digest; replicas whose states differ almost surely do not.
// It is meant for comparing replicas in tests and simulations, not for
// security.
//
// Digest takes constant time: the store keeps it up to date as it changes.
// Its value may change between versions of this package; compare digests
// only between stores built by the same code.
func (s *Store) Digest() uint64 {
	return mix64(s.sum + mix64(s.applied^0x6b76646967657374))
}

// FNV-1a, 64 bits.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// hasher accumulates an FNV-1a hash.
type hasher uint64

func newHasher(tag byte) hasher { return hasher(fnvOffset).byte(tag) }

func (h hasher) byte(b byte) hasher { return (h ^ hasher(b)) * fnvPrime }

func (h hasher) u64(v uint64) hasher {
	for range 8 {
		h = h.byte(byte(v))
		v >>= 8
	}
	return h
}

// str hashes s with its length, so that adjacent strings cannot run into
// each other.
func (h hasher) str(s string) hasher {
	h = h.u64(uint64(len(s)))
	for i := 0; i < len(s); i++ {
		h = (h ^ hasher(s[i])) * fnvPrime
	}
	return h
}

// sum finishes the hash. Mixing makes the sum of many hashes, which is how
// the digest combines them, depend on every bit of each.
func (h hasher) sum() uint64 { return mix64(uint64(h)) }

// mix64 is the finalizer of SplitMix64: a bijection that spreads every input
// bit over the output.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func hashEntry(key, value string) uint64 {
	return newHasher('k').str(key).str(value).sum()
}

func hashSession(s *session) uint64 {
	h := newHasher('s').u64(s.client).u64(s.seq).u64(s.lastUsed).u64(s.digest)
	return h.byte(s.out.flags()).str(s.out.value).str(s.out.err).sum()
}

// SameEffect reports whether a and b, valid commands, are the same
// command as a session sees it: equal op and key, and equal value and
// expectation where the op uses them (nil and empty alike). Session and
// sequence are not compared.
func SameEffect(a, b Command) bool {
	if a.Op != b.Op || a.Key != b.Key {
		return false
	}
	switch a.Op {
	case OpSet:
		return string(a.Value) == string(b.Value)
	case OpCAS:
		return string(a.Value) == string(b.Value) && string(a.Expect) == string(b.Expect) && a.ExpectMissing == b.ExpectMissing
	}
	return true
}

// commandDigest is the digest a session keeps of its last command, c, a
// valid one: a hash of the fields its op uses (the key; the value of a SET
// or CAS; the expectation of a CAS), never 0, which stands for "not known".
// Two commands with equal digests have the same effect, but for a 2^-64
// chance.
func commandDigest(c Command) uint64 {
	h := newHasher('c').byte(byte(c.Op)).str(c.Key)
	switch c.Op {
	case OpSet:
		h = h.str(string(c.Value))
	case OpCAS:
		h = h.str(string(c.Value)).str(string(c.Expect))
		if c.ExpectMissing {
			h = h.byte(1)
		}
	}
	if d := h.sum(); d != 0 {
		return d
	}
	return 1
}
