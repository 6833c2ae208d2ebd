package kv

import (
	"errors"
	"hash/crc32"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Errors returned by Restore, wrapped with detail: test for them with
// errors.Is.
var (
	// ErrCorruptSnapshot reports a snapshot that is truncated, fails its
	// checksum, or holds something a store could not have written.
	ErrCorruptSnapshot = errors.New("kv: corrupt snapshot")
	// ErrSnapshotVersion reports a snapshot in a format this package does
	// not know.
	ErrSnapshotVersion = errors.New("kv: unsupported snapshot version")
)

// snapshotVersion is the first byte of every snapshot this package writes.
// Restore reads it and version 1, whose sessions carry no command digest.
//
// Version 2, in order, with every integer an unsigned varint
// (encoding/binary's Uvarint, shortest form only) and every string a varint
// length followed by its bytes:
//
//	version   byte (2)
//	applied   varint
//	nkeys     varint
//	nkeys ×   key string, value string          (keys in increasing byte order)
//	nsessions varint
//	nsessions × client varint, seq varint, lastUsed varint,
//	            digest uint64, big-endian (of the last command; 0: not known),
//	            flags byte (1 OK, 2 Found, 4 has Value),
//	            value string (only with flag 4), err string
//	                                            (clients in increasing order)
//	crc       uint32, big-endian: CRC-32 (IEEE) of all the bytes before it
//
// Version 1 is the same without the digest. Every field has exactly one
// encoding, so a snapshot is a function of the state, and Restore then
// Snapshot gives back the same bytes (for a version 1 snapshot, the same
// state in version 2).
const snapshotVersion = 2

// Result flags in a snapshot.
const (
	flagOK       = 1 << 0
	flagFound    = 1 << 1
	flagHasValue = 1 << 2
	flagsAll     = flagOK | flagFound | flagHasValue
)

// maxErrBytes bounds a remembered Result.Err in a snapshot. The store
// remembers only its own short messages.
const maxErrBytes = 256

func (o outcome) flags() byte {
	var f byte
	if o.ok {
		f |= flagOK
	}
	if o.found {
		f |= flagFound
	}
	if o.hasValue {
		f |= flagHasValue
	}
	return f
}

// Snapshot returns the store's full state (keys and values, sessions, the
// applied index) in a versioned binary encoding with a checksum. Stores that
// applied the same commands give byte-identical snapshots. The returned
// slice is the caller's.
func (s *Store) Snapshot() []byte {
	size := 1 + maxVarintLen*2 + 4
	keys := make([]string, 0, len(s.data))
	for k, e := range s.data { // Order is fixed by the sort below.
		keys = append(keys, k)
		size += 2*maxVarintLen + len(k) + len(e.value)
	}
	slices.Sort(keys)
	sessions := make([]*session, 0, s.sessions.len())
	for _, sess := range s.sessions.byClient { // Order is fixed by the sort below.
		sessions = append(sessions, sess)
		size += 6*maxVarintLen + 8 + 1 + len(sess.out.value) + len(sess.out.err)
	}
	slices.SortFunc(sessions, func(a, b *session) int {
		switch {
		case a.client < b.client:
			return -1
		case a.client > b.client:
			return 1
		}
		return 0
	})

	b := make([]byte, 0, size)
	b = append(b, snapshotVersion)
	b = appendUvarint(b, s.applied)
	b = appendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = appendString(b, k)
		b = appendString(b, s.data[k].value)
	}
	b = appendUvarint(b, uint64(len(sessions)))
	for _, sess := range sessions {
		b = appendUvarint(b, sess.client)
		b = appendUvarint(b, sess.seq)
		b = appendUvarint(b, sess.lastUsed)
		d := sess.digest
		b = append(b, byte(d>>56), byte(d>>48), byte(d>>40), byte(d>>32), byte(d>>24), byte(d>>16), byte(d>>8), byte(d))
		b = append(b, sess.out.flags())
		if sess.out.hasValue {
			b = appendString(b, sess.out.value)
		}
		b = appendString(b, sess.out.err)
	}
	sum := crc32.ChecksumIEEE(b)
	return append(b, byte(sum>>24), byte(sum>>16), byte(sum>>8), byte(sum))
}

// maxVarintLen is the longest varint encoding of a uint64.
const maxVarintLen = 10

// appendUvarint appends v as encoding/binary's AppendUvarint does. (This
// package avoids encoding/binary, which pulls reflect into raft.wasm.)
func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func appendString(b []byte, s string) []byte {
	b = appendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// Restore replaces the store's whole state with the one encoded in b, as
// written by Snapshot, including the applied index (which may move backward:
// Restore does not judge which snapshot is newer). It checks everything:
// the checksum, the version, every length and limit, the order of keys and
// sessions. On error, which wraps ErrCorruptSnapshot or ErrSnapshotVersion,
// the store is unchanged. Restore never panics, whatever b holds, and does
// not keep b.
func (s *Store) Restore(b []byte) error {
	if len(b) < 5 {
		return corrupt("too short (" + strconv.Itoa(len(b)) + " bytes)")
	}
	body := b[:len(b)-4]
	tail := b[len(b)-4:]
	sum := uint32(tail[0])<<24 | uint32(tail[1])<<16 | uint32(tail[2])<<8 | uint32(tail[3])
	if sum != crc32.ChecksumIEEE(body) {
		return corrupt("checksum mismatch")
	}
	version := body[0]
	if version != 1 && version != snapshotVersion {
		return &detailError{ErrSnapshotVersion, ErrSnapshotVersion.Error() + " " + strconv.Itoa(int(version))}
	}
	d := decoder{b: body[1:]}
	applied := d.uvarint("applied index")

	n := d.count("key count", 3) // A key and value take 3 bytes or more.
	data := make(map[string]entry, n)
	var digest uint64
	prev := ""
	for i := uint64(0); i < n && d.err == nil; i++ {
		k := d.string("key", MaxKeyBytes)
		v := d.string("value", MaxValueBytes)
		switch {
		case d.err != nil:
		case k == "" || !utf8.ValidString(k):
			d.fail("invalid key " + strconv.Quote(k))
		case i > 0 && k <= prev:
			d.fail("keys out of order at " + strconv.Quote(k))
		default:
			e := entry{value: v, hash: hashEntry(k, v)}
			data[k] = e
			digest += e.hash
			prev = k
		}
	}

	minSession := 5 // A session takes 5 bytes or more, 13 with its digest.
	if version >= 2 {
		minSession += 8
	}
	n = d.count("session count", minSession)
	if d.err == nil && n > uint64(s.sessions.max) {
		d.fail(strconv.FormatUint(n, 10) + " sessions (limit " + strconv.Itoa(s.sessions.max) + ")")
	}
	sessions := make([]*session, 0, n)
	for i := uint64(0); i < n && d.err == nil; i++ {
		sess := &session{client: d.uvarint("client id"), seq: d.uvarint("seq"), lastUsed: d.uvarint("last used index")}
		if version >= 2 {
			sess.digest = d.u64("command digest")
		}
		f := d.byte("result flags")
		sess.out = outcome{ok: f&flagOK != 0, found: f&flagFound != 0, hasValue: f&flagHasValue != 0}
		if sess.out.hasValue {
			sess.out.value = d.string("result value", MaxValueBytes)
		}
		sess.out.err = d.string("result error", maxErrBytes)
		switch {
		case d.err != nil:
		case f&^flagsAll != 0:
			d.fail("unknown result flags " + strconv.Itoa(int(f)))
		case sess.client == 0 || i > 0 && sess.client <= sessions[i-1].client:
			d.fail("session clients out of order at " + strconv.FormatUint(sess.client, 10))
		case sess.lastUsed == 0 || sess.lastUsed > applied:
			d.fail("session " + strconv.FormatUint(sess.client, 10) + " last used at index " +
				strconv.FormatUint(sess.lastUsed, 10) + " (applied " + strconv.FormatUint(applied, 10) + ")")
		default:
			sess.hash = hashSession(sess)
			digest += sess.hash
			sessions = append(sessions, sess)
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail(strconv.Itoa(len(d.b)) + " bytes after the sessions")
	}
	if d.err != nil {
		return d.err
	}

	// Rebuild the order of use. Each log index is used by one session at
	// most, so lastUsed values are distinct.
	byUse := slices.Clone(sessions)
	slices.SortFunc(byUse, func(a, b *session) int {
		switch {
		case a.lastUsed < b.lastUsed:
			return -1
		case a.lastUsed > b.lastUsed:
			return 1
		}
		return 0
	})
	table := newSessionTable(s.sessions.max)
	for i, sess := range byUse {
		if i > 0 && sess.lastUsed == byUse[i-1].lastUsed {
			return corrupt("two sessions last used at index " + strconv.FormatUint(sess.lastUsed, 10))
		}
		table.add(sess)
	}

	s.data, s.sessions, s.applied, s.sum = data, table, applied, digest
	return nil
}

func corrupt(detail string) error {
	return &detailError{ErrCorruptSnapshot, ErrCorruptSnapshot.Error() + ": " + detail}
}

// decoder reads a snapshot body. After the first failure, err is set and
// every read returns a zero value.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(detail string) {
	if d.err == nil {
		d.err = corrupt(detail)
	}
}

func (d *decoder) byte(what string) byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.fail("truncated at " + what)
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// u64 reads a big-endian uint64.
func (d *decoder) u64(what string) uint64 {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 8 {
		d.fail("truncated at " + what)
		return 0
	}
	var v uint64
	for _, c := range d.b[:8] {
		v = v<<8 | uint64(c)
	}
	d.b = d.b[8:]
	return v
}

// uvarint reads a varint, which must be in its shortest form.
func (d *decoder) uvarint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	var v uint64
	for i, c := range d.b {
		switch {
		case i == maxVarintLen-1 && c > 1:
			d.fail("overflow in " + what)
			return 0
		case c < 0x80 && i > 0 && c == 0:
			// A final byte of zero adds nothing: a shorter form exists.
			d.fail("overlong varint in " + what)
			return 0
		case c < 0x80:
			d.b = d.b[i+1:]
			return v | uint64(c)<<(7*i)
		}
		v |= uint64(c&0x7f) << (7 * i)
	}
	d.fail("truncated at " + what)
	return 0
}

// count reads a number of items each at least min bytes long, and refuses a
// count the remaining bytes cannot hold.
func (d *decoder) count(what string, min int) uint64 {
	n := d.uvarint(what)
	if d.err == nil && n > uint64(len(d.b)/min) {
		d.fail(what + " " + strconv.FormatUint(n, 10) + " exceeds the data")
		return 0
	}
	return n
}

// string reads a length-prefixed string of at most max bytes.
func (d *decoder) string(what string, max int) string {
	n := d.uvarint(what + " length")
	if d.err != nil {
		return ""
	}
	if n > uint64(max) {
		d.fail(what + " too long (" + strconv.FormatUint(n, 10) + " > " + strconv.Itoa(max) + " bytes)")
		return ""
	}
	if n > uint64(len(d.b)) {
		d.fail("truncated in " + what)
		return ""
	}
	v := string(d.b[:n])
	d.b = d.b[n:]
	return v
}
