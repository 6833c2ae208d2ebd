package kv

import (
	"strconv"

	"github.com/wraft/wraft/wire"
)

// CodecVersion is the format version written as the first byte of every
// encoded Command and Result. Decoders refuse any other version with an
// error wrapping wire.ErrVersion.
const CodecVersion = 1

// AppendCommand appends the encoding of c, which is the Data of every
// normal log entry:
//
//	u8 version (CodecVersion), u8 op, uvarint clientID, uvarint seq,
//	string key, bytes value, bytes expect, bool expectMissing
//
// Every field is written whatever the op, so decoding gives back exactly
// c (with empty slices as nil). Limits are not checked: see Validate.
func AppendCommand(b []byte, c Command) []byte {
	b = append(b, CodecVersion, byte(c.Op))
	b = wire.AppendUvarint(b, c.ClientID)
	b = wire.AppendUvarint(b, c.Seq)
	b = wire.AppendString(b, c.Key)
	b = wire.AppendBytes(b, c.Value)
	b = wire.AppendBytes(b, c.Expect)
	return wire.AppendBool(b, c.ExpectMissing)
}

// DecodeCommand decodes a Command that AppendCommand encoded, which must
// fill b exactly. It refuses an unknown version or op, a Key over
// MaxKeyBytes and a Value or Expect over MaxValueBytes, with an error
// wrapping one of the wire sentinels (wire.ErrInvalid, wire.ErrTooLarge,
// ...). It does not apply the other rules of Validate. The Command shares
// no memory with b.
func DecodeCommand(b []byte) (Command, error) {
	r := wire.NewReader(b, "kv: command")
	c := ReadCommand(r)
	if err := r.Done(); err != nil {
		return Command{}, err
	}
	return c, nil
}

// ReadCommand reads a Command, version byte included, as DecodeCommand
// does, from a Reader that may hold more after it. It returns the zero
// Command if r has failed.
func ReadCommand(r *wire.Reader) Command { return readCommand(r, true) }

// ReadCommandUnchecked reads a Command as ReadCommand does, but refuses
// only bytes that are not an encoding at all (a wrong version, a
// truncation, an invalid bool): it accepts any op, and keys, values and
// expectations of any length the bytes hold. A decoder of client requests
// uses it, so that an oversized command or an unknown op reaches Validate
// and is answered with Validate's error, such as
// "kv: key too long (300 > 256 bytes)", rather than failing what carried
// it. Log entries are decoded with ReadCommand.
func ReadCommandUnchecked(r *wire.Reader) Command { return readCommand(r, false) }

// anySize is the length limit of ReadCommandUnchecked: the bytes that
// remain bound every length anyway.
const anySize = 1<<31 - 1

func readCommand(r *wire.Reader, checked bool) Command {
	var c Command
	keyMax, valueMax := MaxKeyBytes, MaxValueBytes
	if !checked {
		keyMax, valueMax = anySize, anySize
	}
	r.Version(CodecVersion)
	at := r.Offset()
	c.Op = Op(r.Byte())
	if checked && r.Err() == nil && (c.Op < OpSet || c.Op > OpCAS) {
		r.Invalid(at, "has unknown op "+strconv.Itoa(int(c.Op)))
	}
	c.ClientID = r.Uvarint()
	c.Seq = r.Uvarint()
	c.Key = r.String("key", keyMax)
	c.Value = r.Bytes("value", valueMax)
	c.Expect = r.Bytes("expect", valueMax)
	c.ExpectMissing = r.Bool()
	if r.Err() != nil {
		return Command{}
	}
	return c
}

// AppendResult appends the encoding of res:
//
//	u8 version (CodecVersion), bool ok, bool found, bytes value, string err
func AppendResult(b []byte, res Result) []byte {
	b = append(b, CodecVersion)
	b = wire.AppendBool(b, res.OK)
	b = wire.AppendBool(b, res.Found)
	b = wire.AppendBytes(b, res.Value)
	return wire.AppendString(b, res.Err)
}

// DecodeResult decodes a Result that AppendResult encoded, which must fill
// b exactly. A Value over MaxValueBytes and an Err over wire.MaxTextBytes
// are errors. The Result shares no memory with b.
func DecodeResult(b []byte) (Result, error) {
	r := wire.NewReader(b, "kv: result")
	res := ReadResult(r)
	if err := r.Done(); err != nil {
		return Result{}, err
	}
	return res, nil
}

// ReadResult reads a Result, version byte included, as DecodeResult does,
// from a Reader that may hold more after it. It returns the zero Result if
// r has failed.
func ReadResult(r *wire.Reader) Result {
	var res Result
	r.Version(CodecVersion)
	res.OK = r.Bool()
	res.Found = r.Bool()
	res.Value = r.Bytes("value", MaxValueBytes)
	res.Err = r.String("error", wire.MaxTextBytes)
	if r.Err() != nil {
		return Result{}
	}
	return res
}
