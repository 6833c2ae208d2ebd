package engine

import (
	"errors"
	"strconv"

	"github.com/wraft/wraft/kv"
	"github.com/wraft/wraft/wire"
)

// Errors of Validate besides those of kv.Validate. The errors Validate
// returns wrap them with detail: test with errors.Is.
var (
	// ErrNoSession reports a write without a client session (ClientID 0).
	ErrNoSession = errors.New("engine: a write needs a client session (client id 0)")
	// ErrAddrTooLong reports a membership change whose address is longer
	// than wire.MaxAddrBytes.
	ErrAddrTooLong = errors.New("engine: member address too long")
	// ErrInputRejected is wrapped by an error a Core returns when it
	// refused a batch of inputs as a whole because the batch's encoding is
	// broken (raft.wasm's ABI decoder could not find where one input ends
	// and the next begins). The core handled none of the batch and is
	// intact: the host answers the batch's requests with an error and
	// keeps the core. Every other error of Core.Handle means the core
	// failed.
	ErrInputRejected = errors.New("engine: inputs batch rejected")
)

// Validate reports whether in, a client request, is one the engine
// accepts for processing. It returns nil or the error whose text the
// engine answers the request with (Reply.Code ReplyInvalid), the same
// text through either core, so that a host can refuse a request before it
// reaches the core:
//
//   - Propose: the command passes kv.Validate, with messages such as
//     "kv: key too long (300 > 256 bytes)", and has a client session
//     (ErrNoSession).
//   - Read: the key passes kv.Validate, as a GET of it.
//   - ChangeMembers: the address is at most wire.MaxAddrBytes long
//     ("engine: member address too long (2000 > 1024 bytes)", wrapping
//     ErrAddrTooLong). Whether the change fits the configuration is the
//     leader's to decide, when it is proposed.
//   - Malformed: its Err.
//
// Every other input is valid. Validate is pure.
func Validate(in Input) error {
	switch x := in.(type) {
	case Propose:
		if err := kv.Validate(x.Command); err != nil {
			return err
		}
		if x.Command.ClientID == 0 {
			return ErrNoSession
		}
	case Read:
		return kv.Validate(kv.Command{Op: kv.OpGet, Key: x.Key})
	case ChangeMembers:
		if n := len(x.Change.Addr); n > wire.MaxAddrBytes {
			return &detailError{ErrAddrTooLong, ErrAddrTooLong.Error() + " (" + strconv.Itoa(n) + " > " +
				strconv.Itoa(wire.MaxAddrBytes) + " bytes)"}
		}
	case Malformed:
		return errors.New(x.Err)
	}
	return nil
}

// detailError is a sentinel error with detail: msg is the sentinel's
// message with the detail added, and errors.Is sees the sentinel.
type detailError struct {
	sentinel error
	msg      string
}

func (e *detailError) Error() string { return e.msg }

func (e *detailError) Unwrap() error { return e.sentinel }
