// Input batches: what a host hands the engine. The mirror of Go's
// engine/input.go and abi/inputs.go.

import { readCommand, writeCommand, MAX_KEY_BYTES, type Command } from './command.js';
import { Reader, Writer } from './primitives.js';
import {
  MAX_MESSAGE_BYTES,
  readConfChange,
  readMessage,
  writeConfChange,
  writeMessage,
  type ConfChange,
  type Message,
} from './raft.js';

/** The version byte that leads every batch and init record (abi.Version). */
export const ABI_VERSION = 1;
/** The most items in one input or effect batch (abi.MaxBatchItems). */
export const MAX_BATCH_ITEMS = 1 << 20;

/** Advances the engine's logical clock by one tick. */
export interface Tick {
  kind: 'tick';
}

/**
 * Delivers a message from a peer. When encoded is set it must hold exactly
 * encodeMessage(message) (as a Send effect's encoded does, or bytes that
 * decodeMessage accepted): the encoder then forwards those bytes untouched.
 */
export interface Receive {
  kind: 'receive';
  message: Message;
  encoded?: Uint8Array;
}

/** Submits a client command; exactly one final Reply carries requestID. */
export interface Propose {
  kind: 'propose';
  requestID: bigint;
  command: Command;
}

/** Asks for key's value: linearizable unless stale. */
export interface Read {
  kind: 'read';
  requestID: bigint;
  key: string;
  stale: boolean;
}

/** Says that every entry up to index (of term term) is on stable storage. */
export interface StorageAck {
  kind: 'storageAck';
  index: bigint;
  term: bigint;
}

/** Asks the cluster to hand leadership to node to. */
export interface Transfer {
  kind: 'transfer';
  to: bigint;
}

/**
 * Asks the leader to change the membership, one server at a time; exactly
 * one final Reply carries requestID. change.members is left empty.
 */
export interface ChangeMembers {
  kind: 'changeMembers';
  requestID: bigint;
  change: ConfChange;
}

/** One thing a host hands the engine (engine.Input). */
export type Input = Tick | Receive | Propose | Read | StorageAck | Transfer | ChangeMembers;

const TAG = { tick: 1, receive: 2, propose: 3, read: 4, storageAck: 5, transfer: 6, changeMembers: 7 } as const;

/** Writes a batch of inputs (abi.AppendInputs). */
export function writeInputs(w: Writer, inputs: readonly Input[]): void {
  w.u8(ABI_VERSION);
  w.count(inputs.length);
  for (const x of inputs) {
    w.u8(TAG[x.kind]);
    switch (x.kind) {
      case 'tick':
        break;
      case 'receive':
        if (x.encoded !== undefined) w.bytesField(x.encoded);
        else w.frame((f) => writeMessage(f, x.message));
        break;
      case 'propose':
        w.uvarint(x.requestID);
        w.frame((f) => writeCommand(f, x.command));
        break;
      case 'read':
        w.uvarint(x.requestID);
        w.string(x.key);
        w.bool(x.stale);
        break;
      case 'storageAck':
        w.uvarint(x.index);
        w.uvarint(x.term);
        break;
      case 'transfer':
        w.uvarint(x.to);
        break;
      case 'changeMembers':
        w.uvarint(x.requestID);
        w.frame((f) => writeConfChange(f, x.change));
        break;
      default:
        throw new TypeError(`abi: unknown input kind ${String((x as { kind: unknown }).kind)}`);
    }
  }
}

/** Returns the encoding of a batch of inputs. */
export function encodeInputs(inputs: readonly Input[]): Uint8Array {
  const w = new Writer(16 + 32 * inputs.length);
  writeInputs(w, inputs);
  return w.bytes();
}

/**
 * Decodes a batch that encodeInputs encoded, which must fill b exactly
 * (abi.DecodeInputs). It throws a DecodeError for an unknown version or
 * tag, more than MAX_BATCH_ITEMS items, a message or command its own
 * decoder refuses (or whose frame it does not fill exactly), and a Read key
 * over MAX_KEY_BYTES, and a configuration change of an unknown type or
 * over its limits. A Receive's encoded holds a copy of its frame.
 */
export function decodeInputs(b: Uint8Array): Input[] {
  const r = new Reader(b, 'abi: inputs');
  r.version(ABI_VERSION);
  const n = r.count('batch', MAX_BATCH_ITEMS, 1);
  const inputs: Input[] = [];
  for (let i = 0; i < n; i++) inputs.push(readInput(r));
  r.done();
  return inputs;
}

function readInput(r: Reader): Input {
  const at = r.offset;
  const tag = r.u8();
  switch (tag) {
    case TAG.tick:
      return { kind: 'tick' };
    case TAG.receive: {
      const { message, encoded } = readMessageFrame(r);
      return { kind: 'receive', message, encoded };
    }
    case TAG.propose: {
      const requestID = r.uvarint();
      const outer = r.beginFrame('command', MAX_MESSAGE_BYTES);
      const command = readCommand(r);
      r.endFrame(outer);
      return { kind: 'propose', requestID, command };
    }
    case TAG.read:
      return { kind: 'read', requestID: r.uvarint(), key: r.string('key', MAX_KEY_BYTES), stale: r.bool() };
    case TAG.storageAck:
      return { kind: 'storageAck', index: r.uvarint(), term: r.uvarint() };
    case TAG.transfer:
      return { kind: 'transfer', to: r.uvarint() };
    case TAG.changeMembers: {
      const requestID = r.uvarint();
      const outer = r.beginFrame('configuration change', MAX_MESSAGE_BYTES);
      const change = readConfChange(r);
      r.endFrame(outer);
      return { kind: 'changeMembers', requestID, change };
    }
    default:
      return r.invalid(at, `has unknown input tag ${tag}`);
  }
}

/** Reads a frame holding exactly one message; returns it and a copy of its bytes. */
export function readMessageFrame(r: Reader): { message: Message; encoded: Uint8Array } {
  const outer = r.beginFrame('message', MAX_MESSAGE_BYTES);
  const start = r.offset;
  const message = readMessage(r);
  r.endFrame(outer);
  return { message, encoded: r.slice(start, r.offset) };
}
