package transport

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/wraft/wraft/raft"
	"github.com/wraft/wraft/wire"
)

// ProtocolVersion is the version a dialler's hello carries. A receiver
// also accepts version 1, whose connections carry no pings and no
// acknowledgements, and refuses any other.
const ProtocolVersion = 2

// minProtocolVersion is the oldest version a receiver accepts.
const minProtocolVersion = 1

// magic opens every hello.
const magic = "wraft"

const (
	// frameHeaderBytes is the size of a frame's length prefix.
	frameHeaderBytes = 4
	// maxHelloBytes limits a hello frame: magic, version and two uvarints
	// need at most 26 bytes, the optional API URL at most 2 more for its
	// length and wire.MaxAddrBytes.
	maxHelloBytes = 64 + wire.MaxAddrBytes
	// maxAckBytes limits an acknowledgement frame.
	maxAckBytes = 16
	// controlByte opens a ping or an acknowledgement; a message opens with
	// wire.Version, which is never 0.
	controlByte = 0
	// readChunkBytes is how much of a long frame is allocated ahead of the
	// bytes that arrive, so that a peer cannot make the receiver allocate a
	// whole MaxFrameBytes by sending just a header.
	readChunkBytes = 1 << 20
)

// errProtocol is wrapped by errors that mean the remote end broke the
// protocol, as opposed to I/O errors.
var errProtocol = errors.New("transport: protocol violation")

// protocolError is a protocol violation, possibly caused by a decoding
// error.
type protocolError struct {
	msg string
	err error // the cause, or nil
}

func (e *protocolError) Error() string {
	if e.err != nil {
		return "transport: " + e.msg + ": " + e.err.Error()
	}
	return "transport: " + e.msg
}

func (e *protocolError) Unwrap() []error {
	if e.err == nil {
		return []error{errProtocol}
	}
	return []error{errProtocol, e.err}
}

func protocolErrorf(format string, args ...any) error {
	return &protocolError{msg: fmt.Sprintf(format, args...)}
}

// hello is the first frame on a connection, in both directions.
type hello struct {
	version byte   // the protocol version
	from    uint64 // the sender's id
	to      uint64 // the id the sender expects at the other end
	// api is the URL of the sender's HTTP API (Config.APIURL), or "" if
	// it announces none. Only a hello of version 2 or later carries one,
	// as an optional trailing field; an empty one is not sent.
	api string
}

// appendHello appends h as a whole frame, length prefix included.
func appendHello(b []byte, h hello) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0)
	b = append(b, magic...)
	b = append(b, h.version)
	b = wire.AppendUvarint(b, h.from)
	b = wire.AppendUvarint(b, h.to)
	if h.api != "" && h.version >= 2 {
		b = wire.AppendString(b, h.api)
	}
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start-frameHeaderBytes))
	return b
}

// parseHello decodes the payload of a hello frame.
func parseHello(p []byte) (hello, error) {
	if len(p) < len(magic) || string(p[:len(magic)]) != magic {
		return hello{}, protocolErrorf("hello lacks the magic %q", magic)
	}
	r := wire.NewReader(p[len(magic):], "transport: hello")
	v := r.Byte()
	if r.Err() == nil && (v < minProtocolVersion || v > ProtocolVersion) {
		return hello{}, protocolErrorf("hello has protocol version %d, want %d to %d", v, minProtocolVersion, ProtocolVersion)
	}
	h := hello{version: v, from: r.Uvarint(), to: r.Uvarint()}
	if r.Err() == nil && v >= 2 && r.Len() > 0 {
		at := r.Offset()
		if h.api = r.String("API URL", wire.MaxAddrBytes); r.Err() == nil && h.api == "" {
			r.Invalid(at, "empty API URL (it is left out instead)")
		}
	}
	if err := r.Done(); err != nil {
		return hello{}, &protocolError{msg: "bad hello", err: err}
	}
	return h, nil
}

// readHello reads a hello frame from br.
func readHello(br *bufio.Reader) (hello, error) {
	p, err := readFrame(br, nil, maxHelloBytes)
	if err != nil {
		return hello{}, err
	}
	return parseHello(p)
}

// appendPing appends a ping frame: a dialler's keepalive, which the
// receiver counts and acknowledges but does not deliver.
func appendPing(b []byte) []byte { return append(b, 0, 0, 0, 1, controlByte) }

// isPing reports whether a frame's payload p is a ping.
func isPing(p []byte) bool { return len(p) == 1 && p[0] == controlByte }

// appendAck appends an acknowledgement frame: the number of frames, pings
// included, that the receiver has read from the connection.
func appendAck(b []byte, frames uint64) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0, controlByte)
	b = wire.AppendUvarint(b, frames)
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start-frameHeaderBytes))
	return b
}

// parseAck decodes the payload of an acknowledgement frame.
func parseAck(p []byte) (uint64, error) {
	if len(p) == 0 || p[0] != controlByte {
		return 0, protocolErrorf("expected an acknowledgement")
	}
	r := wire.NewReader(p[1:], "transport: acknowledgement")
	n := r.Uvarint()
	if err := r.Done(); err != nil {
		return 0, &protocolError{msg: "bad acknowledgement", err: err}
	}
	return n, nil
}

// appendMessageFrame appends m as a whole frame, length prefix included.
func appendMessageFrame(b []byte, m raft.Message) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0)
	b = wire.AppendMessage(b, m)
	n := uint64(len(b) - start - frameHeaderBytes)
	if n > 1<<32-1 { // not representable; the caller's size check rejects it
		n = 1<<32 - 1
	}
	binary.BigEndian.PutUint32(b[start:], uint32(n))
	return b
}

// sizeHint returns an upper bound of the size of m's frame, for
// allocating it at once.
func sizeHint(m raft.Message) int {
	n := frameHeaderBytes + 2 + 8*10 + 10 + len(m.Context)
	for _, e := range m.Entries {
		n += 3*10 + 1 + len(e.Data)
	}
	return n
}

// readFrame reads one frame from br and returns its payload, which reuses
// buf if it is large enough. A length of 0 or over limit is a protocol error,
// found before anything is allocated; a frame longer than readChunkBytes is
// allocated as it arrives. io.EOF means the stream ended cleanly before a
// frame; a stream that ends inside a frame gives io.ErrUnexpectedEOF.
func readFrame(br *bufio.Reader, buf []byte, limit int) ([]byte, error) {
	var hdr [frameHeaderBytes]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	switch {
	case n == 0:
		return nil, protocolErrorf("empty frame")
	case uint64(n) > uint64(limit):
		return nil, protocolErrorf("frame too large (%d > %d bytes)", n, limit)
	}
	size := int(n)
	if size <= cap(buf) {
		buf = buf[:size]
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, unexpectedEOF(err)
		}
		return buf, nil
	}
	buf = buf[:0]
	for len(buf) < size {
		chunk := min(size-len(buf), readChunkBytes)
		if cap(buf)-len(buf) < chunk {
			grown := make([]byte, len(buf), min(size, max(2*cap(buf), len(buf)+chunk)))
			copy(grown, buf)
			buf = grown
		}
		if _, err := io.ReadFull(br, buf[len(buf):len(buf)+chunk]); err != nil {
			return nil, unexpectedEOF(err)
		}
		buf = buf[:len(buf)+chunk]
	}
	return buf, nil
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
