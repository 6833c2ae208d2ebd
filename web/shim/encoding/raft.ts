// Raft values and their encoding: the mirror of Go's raft types (message.go,
// status.go, event.go) and of package wire (message.go, status.go).

import { Reader, Writer } from './primitives.js';

/** The version byte that leads every encoded message (Go's wire.Version). */
export const WIRE_VERSION = 1;

/** Limits enforced by the decoders (Go's wire.MaxXxx). */
export const MAX_MESSAGE_BYTES = 16 << 20;
export const MAX_ENTRIES = 1 << 20;
export const MAX_ENTRY_BYTES = 8 << 20;
export const MAX_CONTEXT_BYTES = 1 << 10;
export const MAX_TEXT_BYTES = 64 << 10;
export const MAX_VOTERS = 1 << 12;

/** Message types (raft.MessageType). Values are part of the wire format. */
export const MessageType = {
  Vote: 1,
  VoteResp: 2,
  PreVote: 3,
  PreVoteResp: 4,
  App: 5,
  AppResp: 6,
  Heartbeat: 7,
  HeartbeatResp: 8,
  Prop: 9,
  ReadIndex: 10,
  ReadIndexResp: 11,
  TimeoutNow: 12,
  TransferLeader: 13,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** Entry types (raft.EntryType). */
export const EntryType = { Normal: 0, Noop: 1 } as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

/** Roles (raft.Role). */
export const Role = { Follower: 0, PreCandidate: 1, Candidate: 2, Leader: 3 } as const;
export type Role = (typeof Role)[keyof typeof Role];

/** Progress states (raft.ProgressState). */
export const ProgressState = { Probe: 0, Replicate: 1 } as const;
export type ProgressState = (typeof ProgressState)[keyof typeof ProgressState];

/**
 * Event kinds (raft.EventKind). Kinds only inform: an event may carry a kind
 * this list does not know, which a host shows by number.
 */
export const EventKind = {
  ElectionStarted: 1,
  PreVoteStarted: 2,
  Elected: 3,
  SteppedDown: 4,
  TermChanged: 5,
  VoteGranted: 6,
  VoteRejected: 7,
  LeaderChanged: 8,
  QuorumLost: 9,
  TransferStarted: 10,
  TransferAborted: 11,
  LogTruncated: 12,
  Committed: 13,
  MessageRejected: 14,
  ProposalDropped: 15,
  PreVoteCancelled: 16,
  /** The core itself failed: discard it and recreate it from storage. */
  CoreError: 17,
} as const;

/** One record of the replicated log (raft.Entry). */
export interface Entry {
  term: bigint;
  index: bigint;
  type: EntryType;
  /** For a normal entry, an encoded kv command; empty for a no-op. */
  data: Uint8Array;
}

/** One message between nodes (raft.Message). Unused fields are zero. */
export interface Message {
  type: MessageType;
  from: bigint;
  to: bigint;
  term: bigint;
  logTerm: bigint;
  index: bigint;
  commit: bigint;
  reject: boolean;
  rejectHint: bigint;
  context: Uint8Array;
  entries: Entry[];
}

/** The state a node persists before it sends what depends on it (raft.HardState). */
export interface HardState {
  term: bigint;
  vote: bigint;
  commit: bigint;
}

/** A fact about a node, for logs and dashboards (raft.Event). */
export interface Event {
  /** An EventKind value, or a kind this host does not know. */
  kind: number;
  term: bigint;
  peer: bigint;
  index: bigint;
  text: string;
}

/** The leader's view of one voter (raft.PeerStatus). */
export interface PeerStatus {
  id: bigint;
  match: bigint;
  next: bigint;
  state: ProgressState;
  active: boolean;
  inflight: bigint;
}

/** A node's protocol status (raft.Status). */
export interface Status {
  id: bigint;
  role: Role;
  term: bigint;
  vote: bigint;
  leader: bigint;
  commit: bigint;
  lastIndex: bigint;
  lastTerm: bigint;
  stable: bigint;
  voters: bigint[];
  alive: bigint;
  /** Set only on the leader, one per voter. */
  progress: PeerStatus[];
  transferee: bigint;
  preVote: boolean;
  checkQuorum: boolean;
}

/** Returns a message of type with every other field zero. */
export function newMessage(type: MessageType, fields: Partial<Message> = {}): Message {
  return {
    type,
    from: 0n,
    to: 0n,
    term: 0n,
    logTerm: 0n,
    index: 0n,
    commit: 0n,
    reject: false,
    rejectHint: 0n,
    context: new Uint8Array(0),
    entries: [],
    ...fields,
  };
}

/** Returns the zero hard state. */
export function zeroHardState(): HardState {
  return { term: 0n, vote: 0n, commit: 0n };
}

// Encoders.

/** Writes m, version byte included (Go's wire.AppendMessage). */
export function writeMessage(w: Writer, m: Message): void {
  w.u8(WIRE_VERSION);
  w.u8(m.type);
  w.uvarint(m.from);
  w.uvarint(m.to);
  w.uvarint(m.term);
  w.uvarint(m.logTerm);
  w.uvarint(m.index);
  w.uvarint(m.commit);
  w.bool(m.reject);
  w.uvarint(m.rejectHint);
  w.bytesField(m.context);
  writeEntries(w, m.entries);
}

/** Returns the encoding of m, as it travels between nodes. */
export function encodeMessage(m: Message): Uint8Array {
  const w = new Writer(64);
  writeMessage(w, m);
  return w.bytes();
}

export function writeEntry(w: Writer, e: Entry): void {
  w.uvarint(e.term);
  w.uvarint(e.index);
  w.u8(e.type);
  w.bytesField(e.data);
}

export function writeEntries(w: Writer, es: readonly Entry[]): void {
  w.count(es.length);
  for (const e of es) writeEntry(w, e);
}

export function writeHardState(w: Writer, h: HardState): void {
  w.uvarint(h.term);
  w.uvarint(h.vote);
  w.uvarint(h.commit);
}

export function writeEvent(w: Writer, ev: Event): void {
  w.u8(ev.kind);
  w.uvarint(ev.term);
  w.uvarint(ev.peer);
  w.uvarint(ev.index);
  w.string(ev.text);
}

export function writeStatus(w: Writer, s: Status): void {
  w.uvarint(s.id);
  w.u8(s.role);
  w.uvarint(s.term);
  w.uvarint(s.vote);
  w.uvarint(s.leader);
  w.uvarint(s.commit);
  w.uvarint(s.lastIndex);
  w.uvarint(s.lastTerm);
  w.uvarint(s.stable);
  w.count(s.voters.length);
  for (const v of s.voters) w.uvarint(v);
  w.int(s.alive);
  w.count(s.progress.length);
  for (const p of s.progress) {
    w.uvarint(p.id);
    w.uvarint(p.match);
    w.uvarint(p.next);
    w.u8(p.state);
    w.bool(p.active);
    w.int(p.inflight);
  }
  w.uvarint(s.transferee);
  w.bool(s.preVote);
  w.bool(s.checkQuorum);
}

// Decoders.

/**
 * Decodes a message that encodeMessage encoded, which must fill b exactly
 * (Go's wire.DecodeMessage). It throws a DecodeError for an input over
 * MAX_MESSAGE_BYTES, an unknown version, message type or entry type, and
 * anything over its limit.
 */
export function decodeMessage(b: Uint8Array): Message {
  const r = new Reader(b, 'wire: message');
  if (b.length > MAX_MESSAGE_BYTES) r.tooLarge(0, `too large (${b.length} > ${MAX_MESSAGE_BYTES} bytes)`);
  const m = readMessage(r);
  r.done();
  return m;
}

/** Reads a message, version byte included, leaving the end of input to the caller. */
export function readMessage(r: Reader): Message {
  r.version(WIRE_VERSION);
  const at = r.offset;
  const type = r.u8();
  if (type < MessageType.Vote || type > MessageType.TransferLeader) r.invalid(at, `has unknown message type ${type}`);
  return {
    type: type as MessageType,
    from: r.uvarint(),
    to: r.uvarint(),
    term: r.uvarint(),
    logTerm: r.uvarint(),
    index: r.uvarint(),
    commit: r.uvarint(),
    reject: r.bool(),
    rejectHint: r.uvarint(),
    context: r.bytes('context', MAX_CONTEXT_BYTES),
    entries: readEntries(r, MAX_ENTRIES),
  };
}

/** The size of the smallest encoded entry: four one-byte fields. */
const MIN_ENTRY_BYTES = 4;

export function readEntry(r: Reader): Entry {
  const term = r.uvarint();
  const index = r.uvarint();
  const at = r.offset;
  const type = r.u8();
  if (type !== EntryType.Normal && type !== EntryType.Noop) r.invalid(at, `has unknown entry type ${type}`);
  return { term, index, type: type as EntryType, data: r.bytes('entry data', MAX_ENTRY_BYTES) };
}

export function readEntries(r: Reader, max: number): Entry[] {
  const n = r.count('entries', max, MIN_ENTRY_BYTES);
  const es: Entry[] = [];
  for (let i = 0; i < n; i++) es.push(readEntry(r));
  return es;
}

export function readHardState(r: Reader): HardState {
  return { term: r.uvarint(), vote: r.uvarint(), commit: r.uvarint() };
}

/** Reads an event; its kind is not checked (see EventKind). */
export function readEvent(r: Reader): Event {
  return {
    kind: r.u8(),
    term: r.uvarint(),
    peer: r.uvarint(),
    index: r.uvarint(),
    text: r.string('event text', MAX_TEXT_BYTES),
  };
}

/** The size of the smallest encoded PeerStatus. */
const MIN_PEER_STATUS_BYTES = 6;

export function readStatus(r: Reader): Status {
  const id = r.uvarint();
  let at = r.offset;
  const role = r.u8();
  if (role > Role.Leader) r.invalid(at, `has unknown role ${role}`);
  const term = r.uvarint();
  const vote = r.uvarint();
  const leader = r.uvarint();
  const commit = r.uvarint();
  const lastIndex = r.uvarint();
  const lastTerm = r.uvarint();
  const stable = r.uvarint();
  const voters: bigint[] = [];
  for (let n = r.count('voters', MAX_VOTERS, 1); n > 0; n--) voters.push(r.uvarint());
  const alive = r.int();
  const progress: PeerStatus[] = [];
  for (let n = r.count('progress', MAX_VOTERS, MIN_PEER_STATUS_BYTES); n > 0; n--) {
    const id = r.uvarint();
    const match = r.uvarint();
    const next = r.uvarint();
    at = r.offset;
    const state = r.u8();
    if (state > ProgressState.Replicate) r.invalid(at, `has unknown progress state ${state}`);
    progress.push({ id, match, next, state: state as ProgressState, active: r.bool(), inflight: r.int() });
  }
  return {
    id,
    role: role as Role,
    term,
    vote,
    leader,
    commit,
    lastIndex,
    lastTerm,
    stable,
    voters,
    alive,
    progress,
    transferee: r.uvarint(),
    preVote: r.bool(),
    checkQuorum: r.bool(),
  };
}
