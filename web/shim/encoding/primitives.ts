// The primitives of the wraft binary format (docs/ABI.md, "Conventions"):
// u8, bool, uvarint, zigzag int, length-prefixed bytes and strings, frames
// and lists. A mirror of Go's wire.AppendXxx functions and wire.Reader.
//
// Every uvarint and int is a bigint here: Go's uint64 and int are 64-bit,
// and JavaScript numbers lose precision above 2^53.

/** The largest value of a Go uint64. */
export const MAX_U64 = 0xffff_ffff_ffff_ffffn;
/** The smallest and largest values of a Go int (64-bit on every host). */
export const MIN_INT = -(1n << 63n);
export const MAX_INT = (1n << 63n) - 1n;

/**
 * DecodeError is the only error a decoder throws. Its subclasses mirror the
 * sentinels of Go's package wire: TruncatedError (wire.ErrTruncated),
 * TooLargeError (wire.ErrTooLarge), VersionError (wire.ErrVersion) and
 * InvalidError (wire.ErrInvalid). The message is the one Go's decoders
 * write, such as "wire: message truncated at byte 17"; offset counts from
 * the start of the whole input.
 */
export class DecodeError extends Error {
  /** Where the failing field begins, counted from the start of the input. */
  readonly offset: number;
  constructor(what: string, reason: string, offset: number) {
    super(`${what} ${reason} at byte ${offset}`);
    this.name = new.target.name;
    this.offset = offset;
  }
}

/** The input ended inside a value. */
export class TruncatedError extends DecodeError {}
/** A length or count exceeds its limit. */
export class TooLargeError extends DecodeError {}
/** A format version byte has a value this decoder does not know. */
export class VersionError extends DecodeError {}
/**
 * The bytes are not a valid encoding: an unknown type, tag, op, code, role
 * or state; a bool other than 0 or 1; a non-shortest or overflowing
 * uvarint; bytes left over at the end of the input or of a frame.
 */
export class InvalidError extends DecodeError {}

const utf8Encoder = new TextEncoder();
// Strings are conventionally UTF-8 but not checked by Go's decoders (a kv
// key may hold any bytes). A JavaScript string cannot hold arbitrary bytes,
// so invalid sequences decode as U+FFFD, as Go's encoding/json shows them:
// such a string does not re-encode to the same bytes.
const utf8Decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** Encodes s as UTF-8 (a lone surrogate becomes U+FFFD). */
export function utf8(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}

/**
 * Writer appends encoded fields to a growing buffer: the mirror of Go's
 * append-style wire.AppendXxx functions. Encoders do not check limits (a
 * value beyond one encodes but will not decode), but they do check that
 * every bigint fits its Go type and throw a RangeError otherwise: that is a
 * programming error, like Go's encoders panicking on an unknown type.
 */
export class Writer {
  private buf: Uint8Array;
  private len = 0;

  constructor(capacity = 64) {
    this.buf = new Uint8Array(Math.max(capacity, 16));
  }

  /** The number of bytes written so far. */
  get length(): number {
    return this.len;
  }

  /** Returns a copy of the bytes written so far. */
  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  private grow(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** Appends one byte; v must be an integer in [0, 255]. */
  u8(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`u8 out of range: ${v}`);
    this.grow(1);
    this.buf[this.len++] = v;
  }

  /** Appends 1 for true and 0 for false. */
  bool(v: boolean): void {
    this.u8(v ? 1 : 0);
  }

  /** Appends v as a shortest-form uvarint (1 to 10 bytes); v must be in [0, 2^64-1]. */
  uvarint(v: bigint): void {
    if (typeof v !== 'bigint' || v < 0n || v > MAX_U64) throw new RangeError(`uvarint out of range: ${String(v)}`);
    this.grow(10);
    if (v <= 0xffff_ffffn) {
      let x = Number(v);
      while (x >= 0x80) {
        this.buf[this.len++] = (x & 0x7f) | 0x80;
        x = Math.floor(x / 128);
      }
      this.buf[this.len++] = x;
      return;
    }
    while (v >= 0x80n) {
      this.buf[this.len++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.len++] = Number(v);
  }

  /** Appends a small non-negative count or length as a uvarint. */
  count(n: number): void {
    this.uvarint(BigInt(n));
  }

  /** Appends a Go int zigzag-encoded as a uvarint; v must be in [-2^63, 2^63-1]. */
  int(v: bigint): void {
    if (typeof v !== 'bigint' || v < MIN_INT || v > MAX_INT) throw new RangeError(`int out of range: ${String(v)}`);
    this.uvarint(v >= 0n ? v << 1n : ((-v) << 1n) - 1n);
  }

  /** Appends p's bytes as they are, with no length. */
  raw(p: Uint8Array): void {
    this.grow(p.length);
    this.buf.set(p, this.len);
    this.len += p.length;
  }

  /** Appends p's length as a uvarint, then p. */
  bytesField(p: Uint8Array): void {
    this.count(p.length);
    this.raw(p);
  }

  /** Appends s as UTF-8 bytes, preceded by their length. */
  string(s: string): void {
    this.bytesField(utf8(s));
  }

  /**
   * Appends what enc writes, preceded by its length as a uvarint: the
   * framing Reader.beginFrame reads (Go's wire.AppendFrame).
   */
  frame(enc: (w: Writer) => void): void {
    const inner = new Writer();
    enc(inner);
    this.bytesField(inner.buf.subarray(0, inner.len));
  }
}

/**
 * Reader decodes primitives from a byte array, the mirror of Go's
 * wire.Reader. Instead of a sticky error it throws the first failure as a
 * DecodeError, which is the same first error Go reports. Byte arrays it
 * returns are copies: they never alias the input.
 */
export class Reader {
  private readonly in: Uint8Array;
  /** The end of the innermost open frame (or of the input). */
  private end: number;
  private off = 0;
  /** The value being decoded, for errors: "wire: message". */
  readonly what: string;

  constructor(input: Uint8Array, what: string) {
    this.in = input;
    this.end = input.length;
    this.what = what;
  }

  /** The number of bytes read so far. */
  get offset(): number {
    return this.off;
  }

  /** The number of unread bytes in the current frame. */
  get remaining(): number {
    return Math.max(this.end - this.off, 0);
  }

  truncated(at: number, reason = 'truncated'): never {
    throw new TruncatedError(this.what, reason, at);
  }

  /** Throws an InvalidError for the field that begins at byte at. */
  invalid(at: number, reason: string): never {
    throw new InvalidError(this.what, reason, at);
  }

  tooLarge(at: number, reason: string): never {
    throw new TooLargeError(this.what, reason, at);
  }

  /** Throws an InvalidError if bytes remain unread. Call it after the last field. */
  done(): void {
    if (this.off !== this.end) this.invalid(this.off, `has ${trailing(this.end - this.off)}`);
  }

  /** Reads one byte. */
  u8(): number {
    if (this.off >= this.end) this.truncated(this.off);
    return this.in[this.off++]!;
  }

  /** Reads one byte that must be 0 (false) or 1 (true). */
  bool(): boolean {
    const at = this.off;
    const c = this.u8();
    if (c > 1) this.invalid(at, `has invalid bool ${c}`);
    return c === 1;
  }

  /** Reads a format version byte and throws a VersionError if it is not want. */
  version(want: number): void {
    const at = this.off;
    const v = this.u8();
    if (v !== want) throw new VersionError(this.what, `has version ${v} (want ${want})`, at);
  }

  /** Reads a uvarint, which must be in its shortest form and fit in 64 bits. */
  uvarint(): bigint {
    const at = this.off;
    // Up to 7 bytes (49 bits) accumulate exactly in a number.
    let x = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.off >= this.end) this.truncated(at);
      const c = this.in[this.off++]!;
      if (i === 9 && c > 1) this.invalid(at, 'has uvarint overflowing 64 bits');
      if (c < 0x80) {
        if (c === 0 && i > 0) this.invalid(at, 'has non-minimal uvarint');
        if (i < 7) return BigInt(x + c * mul);
        return this.slowUvarint(at, i + 1);
      }
      if (i < 7) {
        x += (c & 0x7f) * mul;
        mul *= 128;
      }
    }
    // Unreachable: the 10th byte is at most 1, so it ends the loop.
    return this.invalid(at, 'has uvarint overflowing 64 bits');
  }

  /** Recomputes the n-byte uvarint at at, already validated, in bigint. */
  private slowUvarint(at: number, n: number): bigint {
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 7n) | BigInt(this.in[at + i]! & 0x7f);
    return v;
  }

  /** Reads a zigzag-encoded Go int. */
  int(): bigint {
    const u = this.uvarint();
    return (u & 1n) === 0n ? u >> 1n : -(u >> 1n) - 1n;
  }

  /**
   * Reads the uvarint length of field, checks it against max and against
   * the bytes that remain (each unit taking at least unitSize bytes).
   */
  private length(field: string, max: number, unitSize: number): number {
    const at = this.off;
    const n = this.uvarint();
    if (n > BigInt(max)) this.tooLarge(at, `${field} too large (${n} > ${max})`);
    const k = Number(n);
    if (k > Math.floor(this.remaining / unitSize)) this.truncated(at, `${field} truncated`);
    return k;
  }

  /** Reads length-prefixed bytes of at most max, named field in errors; returns a copy. */
  bytes(field: string, max: number): Uint8Array {
    const n = this.length(field, max, 1);
    const p = this.in.slice(this.off, this.off + n);
    this.off += n;
    return p;
  }

  /** Reads a length-prefixed string of at most max bytes, named field in errors. */
  string(field: string, max: number): string {
    const n = this.length(field, max, 1);
    if (n === 0) return '';
    const s = utf8Decoder.decode(this.in.subarray(this.off, this.off + n));
    this.off += n;
    return s;
  }

  /**
   * Reads the uvarint count of a list named field, at most max, each item
   * taking at least minSize bytes, so that a huge count in a short input
   * fails at once as truncated.
   */
  count(field: string, max: number, minSize: number): number {
    return this.length(field, max, minSize);
  }

  /**
   * Reads a uvarint length of at most max bytes and narrows the reader to
   * that many following bytes until the matching endFrame. It returns what
   * endFrame needs to restore the outer bounds.
   */
  beginFrame(field: string, max: number): number {
    const outer = this.end;
    const n = this.length(field, max, 1);
    this.end = this.off + n;
    return outer;
  }

  /** Checks that the frame was read to its end and restores the outer bounds. */
  endFrame(outer: number): void {
    if (this.off !== this.end) this.invalid(this.off, `has ${trailing(this.end - this.off)} in frame`);
    this.end = outer;
  }

  /** Returns a copy of the input bytes in [from, to). */
  slice(from: number, to: number): Uint8Array {
    return this.in.slice(from, to);
  }
}

function trailing(n: number): string {
  return n === 1 ? '1 trailing byte' : `${n} trailing bytes`;
}
