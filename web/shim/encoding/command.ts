// kv commands and results and their encoding: the mirror of Go's
// kv/command.go and kv/codec.go.

import { Reader, Writer } from './primitives.js';
import { MAX_TEXT_BYTES } from './raft.js';

/** The version byte that leads every encoded command and result (kv.CodecVersion). */
export const KV_CODEC_VERSION = 1;

/** The longest key, in bytes (kv.MaxKeyBytes). */
export const MAX_KEY_BYTES = 256;
/** The longest value and CAS expectation, in bytes (kv.MaxValueBytes). */
export const MAX_VALUE_BYTES = 64 << 10;

/** Operations on the store (kv.Op). Values are part of the wire format. */
export const Op = { Set: 1, Get: 2, Del: 3, CAS: 4 } as const;
export type Op = (typeof Op)[keyof typeof Op];

/**
 * One client operation as it travels through the log (kv.Command). ClientID
 * and Seq form a session (0 = none; the engine refuses writes without one):
 * each (clientID, seq) applies at most once.
 */
export interface Command {
  clientID: bigint;
  seq: bigint;
  op: Op;
  key: string;
  value: Uint8Array;
  expect: Uint8Array;
  expectMissing: boolean;
}

/** The outcome of applying a command (kv.Result). */
export interface Result {
  ok: boolean;
  found: boolean;
  value: Uint8Array;
  err: string;
}

/** Returns a command of op on key with every other field zero. */
export function newCommand(op: Op, key: string, fields: Partial<Command> = {}): Command {
  return {
    clientID: 0n,
    seq: 0n,
    op,
    key,
    value: new Uint8Array(0),
    expect: new Uint8Array(0),
    expectMissing: false,
    ...fields,
  };
}

/** Writes c, version byte included (kv.AppendCommand). */
export function writeCommand(w: Writer, c: Command): void {
  w.u8(KV_CODEC_VERSION);
  w.u8(c.op);
  w.uvarint(c.clientID);
  w.uvarint(c.seq);
  w.string(c.key);
  w.bytesField(c.value);
  w.bytesField(c.expect);
  w.bool(c.expectMissing);
}

/** Returns the encoding of c: the data of a normal log entry. */
export function encodeCommand(c: Command): Uint8Array {
  const w = new Writer(32);
  writeCommand(w, c);
  return w.bytes();
}

/**
 * Decodes a command that encodeCommand encoded, which must fill b exactly
 * (kv.DecodeCommand). It throws a DecodeError for an unknown version or op,
 * a key over MAX_KEY_BYTES and a value or expectation over MAX_VALUE_BYTES;
 * it does not apply kv.Validate's other rules.
 */
export function decodeCommand(b: Uint8Array): Command {
  const r = new Reader(b, 'kv: command');
  const c = readCommand(r);
  r.done();
  return c;
}

/** Reads a command, version byte included, from a reader that may hold more. */
export function readCommand(r: Reader): Command {
  r.version(KV_CODEC_VERSION);
  const at = r.offset;
  const op = r.u8();
  if (op < Op.Set || op > Op.CAS) r.invalid(at, `has unknown op ${op}`);
  return {
    op: op as Op,
    clientID: r.uvarint(),
    seq: r.uvarint(),
    key: r.string('key', MAX_KEY_BYTES),
    value: r.bytes('value', MAX_VALUE_BYTES),
    expect: r.bytes('expect', MAX_VALUE_BYTES),
    expectMissing: r.bool(),
  };
}

/** Writes res, version byte included (kv.AppendResult). */
export function writeResult(w: Writer, res: Result): void {
  w.u8(KV_CODEC_VERSION);
  w.bool(res.ok);
  w.bool(res.found);
  w.bytesField(res.value);
  w.string(res.err);
}

export function encodeResult(res: Result): Uint8Array {
  const w = new Writer(16);
  writeResult(w, res);
  return w.bytes();
}

/** Decodes a result that encodeResult encoded, which must fill b exactly (kv.DecodeResult). */
export function decodeResult(b: Uint8Array): Result {
  const r = new Reader(b, 'kv: result');
  r.version(KV_CODEC_VERSION);
  const res: Result = {
    ok: r.bool(),
    found: r.bool(),
    value: r.bytes('value', MAX_VALUE_BYTES),
    err: r.string('error', MAX_TEXT_BYTES),
  };
  r.done();
  return res;
}
