package kv

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// Errors returned by Validate, and by Apply inside Result.Err. The errors
// Validate returns wrap these with detail (the sizes involved, the unknown
// op's number): test for them with errors.Is.
var (
	// ErrEmptyKey reports a command with an empty Key.
	ErrEmptyKey = errors.New("kv: empty key")
	// ErrInvalidKey reports a Key that is not valid UTF-8.
	ErrInvalidKey = errors.New("kv: key is not valid utf-8")
	// ErrKeyTooLong reports a Key longer than MaxKeyBytes.
	ErrKeyTooLong = errors.New("kv: key too long")
	// ErrValueTooLong reports a Value longer than MaxValueBytes.
	ErrValueTooLong = errors.New("kv: value too long")
	// ErrExpectTooLong reports a CAS expectation (Expect) longer than
	// MaxValueBytes.
	ErrExpectTooLong = errors.New("kv: cas expectation too long")
	// ErrExpectConflict reports a CAS with both a non-empty Expect and
	// ExpectMissing: a key cannot both hold a value and be missing.
	ErrExpectConflict = errors.New("kv: cas has both expect and expect-missing")
	// ErrUnknownOp reports an Op that is none of OpSet, OpGet, OpDel, OpCAS.
	ErrUnknownOp = errors.New("kv: unknown op")
)

// Validate reports whether c is a well-formed command, so that a host can
// refuse it before it reaches the log. It returns nil or an error wrapping
// one of the ErrXxx values above, such as
// "kv: key too long (300 > 256 bytes)".
//
// The rules: Op is one of the four operations; Key is non-empty, valid
// UTF-8 and at most MaxKeyBytes long; Value and Expect are at most
// MaxValueBytes long, whatever the op (they bound the size of a log entry);
// a CAS does not set both a non-empty Expect and ExpectMissing. Fields an op
// does not use (Value for GET, Expect for SET) are ignored, not refused.
// ClientID and Seq are not checked here: session rules apply in Store.Apply.
//
// Validate is pure: the same command always gives the same answer, so every
// replica refuses the same commands.
func Validate(c Command) error {
	switch c.Op {
	case OpSet, OpGet, OpDel, OpCAS:
	default:
		return &detailError{ErrUnknownOp, ErrUnknownOp.Error() + " " + strconv.Itoa(int(c.Op))}
	}
	switch {
	case c.Key == "":
		return ErrEmptyKey
	case len(c.Key) > MaxKeyBytes:
		return tooLong(ErrKeyTooLong, len(c.Key), MaxKeyBytes)
	case !utf8.ValidString(c.Key):
		return ErrInvalidKey
	case len(c.Value) > MaxValueBytes:
		return tooLong(ErrValueTooLong, len(c.Value), MaxValueBytes)
	case len(c.Expect) > MaxValueBytes:
		return tooLong(ErrExpectTooLong, len(c.Expect), MaxValueBytes)
	case c.Op == OpCAS && c.ExpectMissing && len(c.Expect) > 0:
		return ErrExpectConflict
	}
	return nil
}

// detailError is a sentinel error with detail: msg is the sentinel's message
// with the detail added, and errors.Is sees the sentinel.
type detailError struct {
	sentinel error
	msg      string
}

func (e *detailError) Error() string { return e.msg }

func (e *detailError) Unwrap() error { return e.sentinel }

// tooLong returns sentinel with the detail "have > max bytes".
func tooLong(sentinel error, have, max int) error {
	return &detailError{sentinel, sentinel.Error() + " (" + strconv.Itoa(have) + " > " + strconv.Itoa(max) + " bytes)"}
}
