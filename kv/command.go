package kv

// Op names one operation on the store.
type Op uint8

// The operations. Values are part of the wire format: never renumber.
const (
	// OpSet stores Value under Key.
	OpSet Op = 1
	// OpGet reads Key. A GET that goes through the log is linearizable by
	// construction; the engine usually serves reads by ReadIndex instead.
	OpGet Op = 2
	// OpDel removes Key; deleting a missing key succeeds with Found false.
	OpDel Op = 3
	// OpCAS stores Value under Key only if the key's current value equals
	// Expect. With ExpectMissing set, it stores only if Key does not exist.
	OpCAS Op = 4
)

// String returns the operation's name, such as "SET", or "UNKNOWN".
func (o Op) String() string {
	switch o {
	case OpSet:
		return "SET"
	case OpGet:
		return "GET"
	case OpDel:
		return "DEL"
	case OpCAS:
		return "CAS"
	}
	return "UNKNOWN"
}

// Limits on commands. Larger ones are refused before they reach the log.
const (
	// MaxKeyBytes is the longest key, in bytes.
	MaxKeyBytes = 256
	// MaxValueBytes is the longest value (and CAS expectation), in bytes.
	MaxValueBytes = 64 << 10
)

// Command is one client operation as it travels through the log.
//
// ClientID and Seq form a session: a store applies each (ClientID, Seq) at
// most once and answers a retry with the result of the first application.
// A ClientID of 0 means no session: the command applies every time it
// commits. Within a session, Seq must increase by one or more with each new
// command; a command whose Seq is below the session's last is stale and is
// refused.
type Command struct {
	ClientID      uint64
	Seq           uint64
	Op            Op
	Key           string
	Value         []byte
	Expect        []byte
	ExpectMissing bool
}

// Result is the outcome of applying a Command.
type Result struct {
	// OK is false when the command did not take effect: a failed CAS or a
	// stale session sequence number. Err says why.
	OK bool
	// Found reports whether Key existed before the command (for GET, whether
	// it exists).
	Found bool
	// Value is the value read by GET, or the current value after a failed
	// CAS. It is nil when the key is missing.
	Value []byte
	// Err is empty on success, otherwise a short reason such as
	// "cas: value differs".
	Err string
}
