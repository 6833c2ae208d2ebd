// Raft values and their encoding: the mirror of Go's raft types (message.go,
// status.go, event.go, membership.go, snapshot.go) and of package wire
// (message.go, status.go, snapshot.go).

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
/** The largest address of a member (wire.MaxAddrBytes). */
export const MAX_ADDR_BYTES = 1 << 10;
/** The largest data of the snapshot chunk a Snap message carries (wire.MaxSnapshotChunkBytes). */
export const MAX_SNAPSHOT_CHUNK_BYTES = 4 << 20;

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
  /** Carries one chunk of a snapshot in its snapshot field. */
  Snap: 14,
  SnapResp: 15,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** Entry types (raft.EntryType). */
export const EntryType = { Normal: 0, Noop: 1, ConfChange: 2 } as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

/** Roles (raft.Role). */
export const Role = { Follower: 0, PreCandidate: 1, Candidate: 2, Leader: 3 } as const;
export type Role = (typeof Role)[keyof typeof Role];

/** Progress states (raft.ProgressState). */
export const ProgressState = { Probe: 0, Replicate: 1, Snapshot: 2 } as const;
export type ProgressState = (typeof ProgressState)[keyof typeof ProgressState];

/** Returns "probe", "replicate" or "snapshot" (raft.ProgressState.String). */
export function progressStateName(s: number): string {
  return s === ProgressState.Replicate ? 'replicate' : s === ProgressState.Snapshot ? 'snapshot' : 'probe';
}

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
  ConfChangeProposed: 18,
  MembershipChanged: 19,
  SnapshotSending: 20,
  SnapshotInstalled: 21,
  LogCompacted: 22,
  /** The core refused a batch whose framing is broken; it handled none of it and is intact. */
  InputsRejected: 23,
} as const;

const EVENT_KIND_NAMES = [
  '',
  'election-started',
  'pre-vote-started',
  'elected',
  'stepped-down',
  'term-changed',
  'vote-granted',
  'vote-rejected',
  'leader-changed',
  'quorum-lost',
  'transfer-started',
  'transfer-aborted',
  'log-truncated',
  'committed',
  'message-rejected',
  'proposal-dropped',
  'pre-vote-cancelled',
  'core-error',
  'conf-change-proposed',
  'membership-changed',
  'snapshot-sending',
  'snapshot-installed',
  'log-compacted',
  'inputs-rejected',
];

/** Returns a kind's name, such as "elected", or "unknown" (raft.EventKind.String). */
export function eventKindName(k: number): string {
  return EVENT_KIND_NAMES[k] || 'unknown';
}

/** One member of the cluster: a voter, or a learner (raft.Member). */
export interface Member {
  id: bigint;
  learner: boolean;
  /** Where to reach the member, opaque to the protocol. */
  addr: string;
}

/** What a snapshot covers: its last entry and the configuration then (raft.SnapshotMeta). */
export interface SnapshotMeta {
  index: bigint;
  term: bigint;
  members: Member[];
}

/** A state machine snapshot with its metadata (raft.Snapshot). */
export interface Snapshot {
  meta: SnapshotMeta;
  data: Uint8Array;
}

/** The bytes [offset, offset+data.length) of a snapshot of size bytes (raft.SnapshotChunk). */
export interface SnapshotChunk {
  meta: SnapshotMeta;
  size: bigint;
  offset: bigint;
  data: Uint8Array;
}

/** Configuration changes (raft.ConfChangeType). Values are part of the log format. */
export const ConfChangeType = { AddLearner: 1, Promote: 2, AddVoter: 3, Remove: 4, Force: 5, UpdateAddr: 6 } as const;
export type ConfChangeType = (typeof ConfChangeType)[keyof typeof ConfChangeType];

/** Returns a change's name, such as "add-learner" (raft.ConfChangeType.String). */
export function confChangeTypeName(t: number): string {
  return ['', 'add-learner', 'promote', 'add-voter', 'remove', 'force', 'update-addr'][t] || 'unknown';
}

/**
 * One change of the membership (raft.ConfChange). members is the whole
 * configuration after the change: the leader fills it in; a proposer
 * leaves it empty (except for Force).
 */
export interface ConfChange {
  type: ConfChangeType;
  nodeID: bigint;
  /** The new member's address (AddLearner, AddVoter), or a member's new address (UpdateAddr). */
  addr: string;
  members: Member[];
}

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
  /** The chunk a Snap message carries; absent in every other type. */
  snapshot?: SnapshotChunk;
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

/** The leader's view of one member, itself included (raft.PeerStatus). */
export interface PeerStatus {
  id: bigint;
  learner: boolean;
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
  /** The index of the newest snapshot; entries before firstIndex are compacted away. */
  snapshot: bigint;
  firstIndex: bigint;
  voters: bigint[];
  /** The whole configuration (voters and learners), sorted by id. */
  members: Member[];
  alive: bigint;
  /** Set only on the leader, one per member, in members order. */
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

/**
 * Writes m, version byte included (Go's wire.AppendMessage). A Snap
 * message, and only a Snap message, ends with its snapshot chunk (a zero
 * chunk if it has none).
 */
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
  if (m.type === MessageType.Snap) writeSnapshotChunk(w, m.snapshot ?? zeroSnapshotChunk());
}

function zeroSnapshotChunk(): SnapshotChunk {
  return { meta: { index: 0n, term: 0n, members: [] }, size: 0n, offset: 0n, data: new Uint8Array(0) };
}

/** Writes members: a count, then id, learner and addr of each (wire.AppendMembers). */
export function writeMembers(w: Writer, ms: readonly Member[]): void {
  w.count(ms.length);
  for (const m of ms) {
    w.uvarint(m.id);
    w.bool(m.learner);
    w.string(m.addr);
  }
}

/** Writes index, term and members (wire.AppendSnapshotMeta). */
export function writeSnapshotMeta(w: Writer, meta: SnapshotMeta): void {
  w.uvarint(meta.index);
  w.uvarint(meta.term);
  writeMembers(w, meta.members);
}

/** Writes meta, size, offset and data (wire.AppendSnapshotChunk). */
export function writeSnapshotChunk(w: Writer, c: SnapshotChunk): void {
  writeSnapshotMeta(w, c.meta);
  w.uvarint(c.size);
  w.uvarint(c.offset);
  w.bytesField(c.data);
}

/** Writes a configuration change as raft.EncodeConfChange does. */
export function writeConfChange(w: Writer, cc: ConfChange): void {
  w.u8(cc.type);
  w.uvarint(cc.nodeID);
  w.string(cc.addr);
  writeMembers(w, cc.members);
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
  w.uvarint(s.snapshot);
  w.uvarint(s.firstIndex);
  w.count(s.voters.length);
  for (const v of s.voters) w.uvarint(v);
  writeMembers(w, s.members);
  w.int(s.alive);
  w.count(s.progress.length);
  for (const p of s.progress) {
    w.uvarint(p.id);
    w.bool(p.learner);
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
 * MAX_MESSAGE_BYTES, an unknown version, message type or entry type, a Snap
 * message without its chunk, and anything over its limit. snapshot is set
 * only on a Snap message.
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
  if (type < MessageType.Vote || type > MessageType.SnapResp) r.invalid(at, `has unknown message type ${type}`);
  const m: Message = {
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
  if (m.type === MessageType.Snap) m.snapshot = readSnapshotChunk(r);
  return m;
}

/** The size of the smallest encoded member: id, learner and an empty addr. */
const MIN_MEMBER_BYTES = 3;

/** Reads members (wire.ReadMembers): at most MAX_VOTERS, each addr at most MAX_ADDR_BYTES. */
export function readMembers(r: Reader): Member[] {
  const ms: Member[] = [];
  for (let n = r.count('members', MAX_VOTERS, MIN_MEMBER_BYTES); n > 0; n--) {
    ms.push({ id: r.uvarint(), learner: r.bool(), addr: r.string('member address', MAX_ADDR_BYTES) });
  }
  return ms;
}

export function readSnapshotMeta(r: Reader): SnapshotMeta {
  return { index: r.uvarint(), term: r.uvarint(), members: readMembers(r) };
}

/**
 * Reads what writeConfChange writes (abi's readConfChange): an unknown type
 * and an addr over MAX_ADDR_BYTES are errors; the members are not checked
 * otherwise (a proposer's change has none).
 */
export function readConfChange(r: Reader): ConfChange {
  const at = r.offset;
  const type = r.u8();
  if (type < ConfChangeType.AddLearner || type > ConfChangeType.UpdateAddr) {
    r.invalid(at, `has unknown configuration change type ${type}`);
  }
  return {
    type: type as ConfChangeType,
    nodeID: r.uvarint(),
    addr: r.string('member address', MAX_ADDR_BYTES),
    members: readMembers(r),
  };
}

/** Reads a snapshot chunk (wire.ReadSnapshotChunk); data is at most MAX_SNAPSHOT_CHUNK_BYTES. */
export function readSnapshotChunk(r: Reader): SnapshotChunk {
  return {
    meta: readSnapshotMeta(r),
    size: r.uvarint(),
    offset: r.uvarint(),
    data: r.bytes('snapshot data', MAX_SNAPSHOT_CHUNK_BYTES),
  };
}

/** The size of the smallest encoded entry: four one-byte fields. */
const MIN_ENTRY_BYTES = 4;

export function readEntry(r: Reader): Entry {
  const term = r.uvarint();
  const index = r.uvarint();
  const at = r.offset;
  const type = r.u8();
  if (type > EntryType.ConfChange) r.invalid(at, `has unknown entry type ${type}`);
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
const MIN_PEER_STATUS_BYTES = 7;

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
  const snapshot = r.uvarint();
  const firstIndex = r.uvarint();
  const voters: bigint[] = [];
  for (let n = r.count('voters', MAX_VOTERS, 1); n > 0; n--) voters.push(r.uvarint());
  const members = readMembers(r);
  const alive = r.int();
  const progress: PeerStatus[] = [];
  for (let n = r.count('progress', MAX_VOTERS, MIN_PEER_STATUS_BYTES); n > 0; n--) {
    const id = r.uvarint();
    const learner = r.bool();
    const match = r.uvarint();
    const next = r.uvarint();
    at = r.offset;
    const state = r.u8();
    if (state > ProgressState.Snapshot) r.invalid(at, `has unknown progress state ${state}`);
    progress.push({ id, learner, match, next, state: state as ProgressState, active: r.bool(), inflight: r.int() });
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
    snapshot,
    firstIndex,
    voters,
    members,
    alive,
    progress,
    transferee: r.uvarint(),
    preVote: r.bool(),
    checkQuorum: r.bool(),
  };
}
