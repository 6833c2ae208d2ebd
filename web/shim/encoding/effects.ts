// Effect batches: what the engine asks its host to do. The mirror of Go's
// engine/effect.go, engine/status.go and abi/effects.go.

import { MAX_VALUE_BYTES } from './command.js';
import { ABI_VERSION, MAX_BATCH_ITEMS, readMessageFrame } from './inputs.js';
import { Reader, Writer } from './primitives.js';
import {
  MAX_ENTRIES,
  MAX_TEXT_BYTES,
  readEntries,
  readEvent,
  readHardState,
  readSnapshotMeta,
  readStatus,
  writeEntries,
  writeEvent,
  writeHardState,
  writeMessage,
  writeSnapshotMeta,
  writeStatus,
  type Entry,
  type Event,
  type HardState,
  type Message,
  type Snapshot,
  type Status,
} from './raft.js';

/** The largest snapshot data in an init record or a SaveSnapshot effect (abi.MaxSnapshotBytes). */
export const MAX_SNAPSHOT_BYTES = 1 << 30;

/**
 * Asks the host to make state durable: when entries is not empty, delete
 * every stored entry at or above entries[0].index and append entries; then
 * store hardState. Once durable, acknowledge the last entry with a
 * StorageAck (with no entries, no acknowledgement is needed).
 */
export interface Persist {
  kind: 'persist';
  hardState: HardState;
  entries: Entry[];
}

/**
 * Asks the host to make snapshot durable, then to drop the stored entries
 * up to its index, and every stored entry after it too unless keepLog,
 * before it carries out any later effect (engine.SaveSnapshot).
 */
export interface SaveSnapshot {
  kind: 'saveSnapshot';
  snapshot: Snapshot;
  keepLog: boolean;
}

/**
 * Asks the host to deliver message to node message.to. encoded holds the
 * message's bytes, ready for the network (a decoder fills it with a copy of
 * the frame; an encoder ignores it).
 */
export interface Send {
  kind: 'send';
  message: Message;
  encoded?: Uint8Array;
}

/** How a client request ended (engine.ReplyCode). */
export const ReplyCode = {
  OK: 0,
  /** Not final: a final reply with the same requestID follows. */
  Pending: 1,
  NotLeader: 2,
  NoQuorum: 3,
  Timeout: 4,
  Invalid: 5,
  Overloaded: 6,
  /** Not applied: the cluster's present state forbids it (a membership change in progress); retry later. */
  Conflict: 7,
  /** Not applied: the write reused its session's sequence number with a different command. */
  SessionConflict: 8,
} as const;
export type ReplyCode = (typeof ReplyCode)[keyof typeof ReplyCode];

/** Returns a code's name in lower case, such as "no-quorum" (engine.ReplyCode.String). */
export function replyCodeName(c: number): string {
  return ['ok', 'pending', 'not-leader', 'no-quorum', 'timeout', 'invalid', 'overloaded', 'conflict', 'session-conflict'][c] ?? 'unknown';
}

/** Answers a Propose or Read (engine.Reply). */
export interface Reply {
  kind: 'reply';
  requestID: bigint;
  code: ReplyCode;
  /** The log index the command committed at, or the read index. */
  index: bigint;
  term: bigint;
  /** How many voters the leader knows to hold the entry, of voters. */
  acks: bigint;
  voters: bigint;
  alive: bigint;
  leader: bigint;
  found: boolean;
  value: Uint8Array;
  ok: boolean;
  error: string;
}

/** Carries an event for logs and dashboards (engine.Emit). */
export interface Emit {
  kind: 'emit';
  event: Event;
}

/** A node's status as the engine reports it (engine.Status: raft.Status flattened, plus the store's). */
export interface EngineStatus extends Status {
  applied: bigint;
  keys: bigint;
  pending: bigint;
}

/** Carries the node's status whenever it changed (engine.StatusReport). */
export interface StatusReport {
  kind: 'statusReport';
  status: EngineStatus;
}

/** One thing the engine asks its host to do (engine.Effect). */
export type Effect = Persist | Send | Reply | Emit | StatusReport | SaveSnapshot;

const TAG = { persist: 1, send: 2, reply: 3, emit: 4, statusReport: 5, saveSnapshot: 6 } as const;

/** Writes a batch of effects (abi.AppendEffects). */
export function writeEffects(w: Writer, effects: readonly Effect[]): void {
  w.u8(ABI_VERSION);
  w.count(effects.length);
  for (const e of effects) {
    w.u8(TAG[e.kind]);
    switch (e.kind) {
      case 'persist':
        writeHardState(w, e.hardState);
        writeEntries(w, e.entries);
        break;
      case 'send':
        w.frame((f) => writeMessage(f, e.message));
        break;
      case 'reply':
        w.uvarint(e.requestID);
        w.u8(e.code);
        w.uvarint(e.index);
        w.uvarint(e.term);
        w.int(e.acks);
        w.int(e.voters);
        w.int(e.alive);
        w.uvarint(e.leader);
        w.bool(e.found);
        w.bytesField(e.value);
        w.bool(e.ok);
        w.string(e.error);
        break;
      case 'emit':
        writeEvent(w, e.event);
        break;
      case 'statusReport':
        writeStatus(w, e.status);
        w.uvarint(e.status.applied);
        w.int(e.status.keys);
        w.int(e.status.pending);
        break;
      case 'saveSnapshot':
        writeSnapshotMeta(w, e.snapshot.meta);
        w.bytesField(e.snapshot.data);
        w.bool(e.keepLog);
        break;
      default:
        throw new TypeError(`abi: unknown effect kind ${String((e as { kind: unknown }).kind)}`);
    }
  }
}

/** Returns the encoding of a batch of effects. */
export function encodeEffects(effects: readonly Effect[]): Uint8Array {
  const w = new Writer(16 + 64 * effects.length);
  writeEffects(w, effects);
  return w.bytes();
}

/**
 * Decodes a batch that encodeEffects encoded, which must fill b exactly
 * (abi.DecodeEffects). It throws a DecodeError for an unknown version, tag,
 * entry type, message type, reply code, role or progress state, and
 * anything over its limit (snapshot data: MAX_SNAPSHOT_BYTES).
 */
export function decodeEffects(b: Uint8Array): Effect[] {
  const r = new Reader(b, 'abi: effects');
  r.version(ABI_VERSION);
  const n = r.count('batch', MAX_BATCH_ITEMS, 1);
  const effects: Effect[] = [];
  for (let i = 0; i < n; i++) effects.push(readEffect(r));
  r.done();
  return effects;
}

function readEffect(r: Reader): Effect {
  const at = r.offset;
  const tag = r.u8();
  switch (tag) {
    case TAG.persist:
      return { kind: 'persist', hardState: readHardState(r), entries: readEntries(r, MAX_ENTRIES) };
    case TAG.send: {
      const { message, encoded } = readMessageFrame(r);
      return { kind: 'send', message, encoded };
    }
    case TAG.reply:
      return readReply(r);
    case TAG.emit:
      return { kind: 'emit', event: readEvent(r) };
    case TAG.statusReport: {
      const s = readStatus(r);
      const status: EngineStatus = { ...s, applied: r.uvarint(), keys: r.int(), pending: r.int() };
      return { kind: 'statusReport', status };
    }
    case TAG.saveSnapshot: {
      const meta = readSnapshotMeta(r);
      const data = r.bytes('snapshot data', MAX_SNAPSHOT_BYTES);
      return { kind: 'saveSnapshot', snapshot: { meta, data }, keepLog: r.bool() };
    }
    default:
      return r.invalid(at, `has unknown effect tag ${tag}`);
  }
}

function readReply(r: Reader): Reply {
  const requestID = r.uvarint();
  const at = r.offset;
  const code = r.u8();
  if (code > ReplyCode.SessionConflict) r.invalid(at, `has unknown reply code ${code}`);
  return {
    kind: 'reply',
    requestID,
    code: code as ReplyCode,
    index: r.uvarint(),
    term: r.uvarint(),
    acks: r.int(),
    voters: r.int(),
    alive: r.int(),
    leader: r.uvarint(),
    found: r.bool(),
    value: r.bytes('reply value', MAX_VALUE_BYTES),
    ok: r.bool(),
    error: r.string('reply error', MAX_TEXT_BYTES),
  };
}
