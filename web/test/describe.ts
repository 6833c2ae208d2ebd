// The JSON description of decoded values used by testdata/vectors/abi.json
// (see abi/vectors_test.go): Go field names in lowerCamelCase, every uvarint
// and int as a decimal string, u8 fields as numbers, bytes as lowercase hex.
// describe turns a value into it; the parse functions turn it back.

import {
  newCommand,
  type Command,
  type Config,
  type Effect,
  type EngineStatus,
  type Entry,
  type HardState,
  type Input,
  type Member,
  type Message,
  type Restored,
  type Snapshot,
  type SnapshotMeta,
} from '../shim/encoding/index.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

export function hex(p: Uint8Array): string {
  return Array.from(p, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function unhex(s: string): Uint8Array {
  if (s.length % 2 !== 0 || /[^0-9a-f]/.test(s)) throw new Error(`bad hex: ${s.slice(0, 40)}`);
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const str = (v: bigint): string => v.toString();

export function describeEntries(es: Entry[]): Json[] {
  return es.map((e) => ({ term: str(e.term), index: str(e.index), type: e.type, data: hex(e.data) }));
}

export function describeHardState(h: HardState): Obj {
  return { term: str(h.term), vote: str(h.vote), commit: str(h.commit) };
}

export function describeMembers(ms: Member[]): Json[] {
  return ms.map((m) => ({ id: str(m.id), learner: m.learner, addr: m.addr }));
}

function describeMeta(m: SnapshotMeta): Obj {
  return { index: str(m.index), term: str(m.term), members: describeMembers(m.members) };
}

function describeSnapshot(s: Snapshot | undefined): Json {
  return s === undefined ? null : { meta: describeMeta(s.meta), data: hex(s.data) };
}

export function describeMessage(m: Message): Obj {
  const out: Obj = {
    type: m.type,
    from: str(m.from),
    to: str(m.to),
    term: str(m.term),
    logTerm: str(m.logTerm),
    index: str(m.index),
    commit: str(m.commit),
    reject: m.reject,
    rejectHint: str(m.rejectHint),
    context: hex(m.context),
    entries: describeEntries(m.entries),
  };
  const c = m.snapshot;
  if (c !== undefined) {
    out.snapshot = { meta: describeMeta(c.meta), size: str(c.size), offset: str(c.offset), data: hex(c.data) };
  }
  return out;
}

export function describeCommand(c: Command): Obj {
  return {
    clientID: str(c.clientID),
    seq: str(c.seq),
    op: c.op,
    key: c.key,
    value: hex(c.value),
    expect: hex(c.expect),
    expectMissing: c.expectMissing,
  };
}

export function describeInput(x: Input): Obj {
  switch (x.kind) {
    case 'tick':
      return { tag: 1, kind: 'tick' };
    case 'receive':
      return { tag: 2, kind: 'receive', message: describeMessage(x.message) };
    case 'propose':
      return { tag: 3, kind: 'propose', requestID: str(x.requestID), command: describeCommand(x.command) };
    case 'read':
      return { tag: 4, kind: 'read', requestID: str(x.requestID), key: x.key, stale: x.stale };
    case 'storageAck':
      return { tag: 5, kind: 'storageAck', index: str(x.index), term: str(x.term) };
    case 'transfer':
      return { tag: 6, kind: 'transfer', to: str(x.to) };
    case 'changeMembers': {
      const c = x.change;
      return {
        tag: 7,
        kind: 'changeMembers',
        requestID: str(x.requestID),
        change: { type: c.type, nodeID: str(c.nodeID), addr: c.addr, members: describeMembers(c.members) },
      };
    }
  }
}

function describeStatus(s: EngineStatus): Obj {
  return {
    id: str(s.id),
    role: s.role,
    term: str(s.term),
    vote: str(s.vote),
    leader: str(s.leader),
    commit: str(s.commit),
    lastIndex: str(s.lastIndex),
    lastTerm: str(s.lastTerm),
    stable: str(s.stable),
    snapshot: str(s.snapshot),
    firstIndex: str(s.firstIndex),
    voters: s.voters.map(str),
    members: describeMembers(s.members),
    alive: str(s.alive),
    progress: s.progress.map((p) => ({
      id: str(p.id),
      learner: p.learner,
      match: str(p.match),
      next: str(p.next),
      state: p.state,
      active: p.active,
      inflight: str(p.inflight),
    })),
    transferee: str(s.transferee),
    preVote: s.preVote,
    checkQuorum: s.checkQuorum,
    applied: str(s.applied),
    keys: str(s.keys),
    pending: str(s.pending),
  };
}

export function describeEffect(e: Effect): Obj {
  switch (e.kind) {
    case 'persist':
      return { tag: 1, kind: 'persist', hardState: describeHardState(e.hardState), entries: describeEntries(e.entries) };
    case 'send':
      return { tag: 2, kind: 'send', message: describeMessage(e.message) };
    case 'reply':
      return {
        tag: 3,
        kind: 'reply',
        requestID: str(e.requestID),
        code: e.code,
        index: str(e.index),
        term: str(e.term),
        acks: str(e.acks),
        voters: str(e.voters),
        alive: str(e.alive),
        leader: str(e.leader),
        found: e.found,
        value: hex(e.value),
        ok: e.ok,
        error: e.error,
      };
    case 'emit': {
      const ev = e.event;
      return {
        tag: 4,
        kind: 'emit',
        event: { kind: ev.kind, term: str(ev.term), peer: str(ev.peer), index: str(ev.index), text: ev.text },
      };
    }
    case 'statusReport':
      return { tag: 5, kind: 'statusReport', status: describeStatus(e.status) };
    case 'saveSnapshot':
      return { tag: 6, kind: 'saveSnapshot', snapshot: describeSnapshot(e.snapshot), keepLog: e.keepLog };
  }
}

export function describeInit(cfg: Config, rs: Restored): Obj {
  const rc = cfg.raft;
  return {
    config: {
      raft: {
        id: str(rc.id),
        members: describeMembers(rc.members),
        electionTicks: str(rc.electionTicks),
        heartbeatTicks: str(rc.heartbeatTicks),
        seed: str(rc.seed),
        disablePreVote: rc.disablePreVote,
        disableCheckQuorum: rc.disableCheckQuorum,
        maxInflightMsgs: str(rc.maxInflightMsgs),
        maxInflightBytes: str(rc.maxInflightBytes),
        maxMsgBytes: str(rc.maxMsgBytes),
        maxSnapshotChunkBytes: str(rc.maxSnapshotChunkBytes),
        maxSnapshotBytes: str(rc.maxSnapshotBytes),
      },
      requestTimeoutTicks: str(cfg.requestTimeoutTicks),
      maxPending: str(cfg.maxPending),
      snapshotEntries: str(cfg.snapshotEntries),
      snapshotRetain: str(cfg.snapshotRetain),
    },
    restored: {
      hardState: describeHardState(rs.hardState),
      snapshot: describeSnapshot(rs.snapshot),
      entries: describeEntries(rs.entries),
    },
  };
}

// Parsing descriptions back into values. They trust the file's shape: a
// field of the wrong type fails the test with a TypeError.

function o(v: Json | undefined): Obj {
  if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v)) throw new TypeError(`not an object: ${JSON.stringify(v)}`);
  return v;
}
function a(v: Json | undefined): Json[] {
  if (!Array.isArray(v)) throw new TypeError(`not an array: ${JSON.stringify(v)}`);
  return v;
}
function big(v: Json | undefined): bigint {
  if (typeof v !== 'string') throw new TypeError(`not a decimal string: ${JSON.stringify(v)}`);
  return BigInt(v);
}
function num<T extends number>(v: Json | undefined): T {
  if (typeof v !== 'number') throw new TypeError(`not a number: ${JSON.stringify(v)}`);
  return v as T;
}
function bool(v: Json | undefined): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`not a bool: ${JSON.stringify(v)}`);
  return v;
}
function text(v: Json | undefined): string {
  if (typeof v !== 'string') throw new TypeError(`not a string: ${JSON.stringify(v)}`);
  return v;
}
function bytes(v: Json | undefined): Uint8Array {
  return unhex(text(v));
}

export function parseEntries(v: Json | undefined): Entry[] {
  return a(v).map((x) => {
    const e = o(x);
    return { term: big(e.term), index: big(e.index), type: num(e.type), data: bytes(e.data) };
  });
}

export function parseHardState(v: Json | undefined): HardState {
  const h = o(v);
  return { term: big(h.term), vote: big(h.vote), commit: big(h.commit) };
}

export function parseMembers(v: Json | undefined): Member[] {
  return a(v).map((x) => {
    const m = o(x);
    return { id: big(m.id), learner: bool(m.learner), addr: text(m.addr) };
  });
}

function parseMeta(v: Json | undefined): SnapshotMeta {
  const m = o(v);
  return { index: big(m.index), term: big(m.term), members: parseMembers(m.members) };
}

function parseSnapshot(v: Json | undefined): Snapshot | undefined {
  if (v === null) return undefined;
  const s = o(v);
  return { meta: parseMeta(s.meta), data: bytes(s.data) };
}

export function parseMessage(v: Json | undefined): Message {
  const m = o(v);
  const out: Message = {
    type: num(m.type),
    from: big(m.from),
    to: big(m.to),
    term: big(m.term),
    logTerm: big(m.logTerm),
    index: big(m.index),
    commit: big(m.commit),
    reject: bool(m.reject),
    rejectHint: big(m.rejectHint),
    context: bytes(m.context),
    entries: parseEntries(m.entries),
  };
  if (m.snapshot !== undefined) {
    const c = o(m.snapshot);
    out.snapshot = { meta: parseMeta(c.meta), size: big(c.size), offset: big(c.offset), data: bytes(c.data) };
  }
  return out;
}

export function parseCommand(v: Json | undefined): Command {
  const c = o(v);
  return newCommand(num(c.op), text(c.key), {
    clientID: big(c.clientID),
    seq: big(c.seq),
    value: bytes(c.value),
    expect: bytes(c.expect),
    expectMissing: bool(c.expectMissing),
  });
}

export function parseInput(v: Json): Input {
  const x = o(v);
  switch (text(x.kind)) {
    case 'tick':
      return { kind: 'tick' };
    case 'receive':
      return { kind: 'receive', message: parseMessage(x.message) };
    case 'propose':
      return { kind: 'propose', requestID: big(x.requestID), command: parseCommand(x.command) };
    case 'read':
      return { kind: 'read', requestID: big(x.requestID), key: text(x.key), stale: bool(x.stale) };
    case 'storageAck':
      return { kind: 'storageAck', index: big(x.index), term: big(x.term) };
    case 'transfer':
      return { kind: 'transfer', to: big(x.to) };
    case 'changeMembers': {
      const c = o(x.change);
      return {
        kind: 'changeMembers',
        requestID: big(x.requestID),
        change: { type: num(c.type), nodeID: big(c.nodeID), addr: text(c.addr), members: parseMembers(c.members) },
      };
    }
  }
  throw new TypeError(`unknown input kind ${String(x.kind)}`);
}

export function parseEffect(v: Json): Effect {
  const x = o(v);
  switch (text(x.kind)) {
    case 'persist':
      return { kind: 'persist', hardState: parseHardState(x.hardState), entries: parseEntries(x.entries) };
    case 'send':
      return { kind: 'send', message: parseMessage(x.message) };
    case 'reply':
      return {
        kind: 'reply',
        requestID: big(x.requestID),
        code: num(x.code),
        index: big(x.index),
        term: big(x.term),
        acks: big(x.acks),
        voters: big(x.voters),
        alive: big(x.alive),
        leader: big(x.leader),
        found: bool(x.found),
        value: bytes(x.value),
        ok: bool(x.ok),
        error: text(x.error),
      };
    case 'emit': {
      const ev = o(x.event);
      return {
        kind: 'emit',
        event: { kind: num(ev.kind), term: big(ev.term), peer: big(ev.peer), index: big(ev.index), text: text(ev.text) },
      };
    }
    case 'statusReport': {
      const s = o(x.status);
      return {
        kind: 'statusReport',
        status: {
          id: big(s.id),
          role: num(s.role),
          term: big(s.term),
          vote: big(s.vote),
          leader: big(s.leader),
          commit: big(s.commit),
          lastIndex: big(s.lastIndex),
          lastTerm: big(s.lastTerm),
          stable: big(s.stable),
          snapshot: big(s.snapshot),
          firstIndex: big(s.firstIndex),
          voters: a(s.voters).map(big),
          members: parseMembers(s.members),
          alive: big(s.alive),
          progress: a(s.progress).map((pv) => {
            const p = o(pv);
            return {
              id: big(p.id),
              learner: bool(p.learner),
              match: big(p.match),
              next: big(p.next),
              state: num(p.state),
              active: bool(p.active),
              inflight: big(p.inflight),
            };
          }),
          transferee: big(s.transferee),
          preVote: bool(s.preVote),
          checkQuorum: bool(s.checkQuorum),
          applied: big(s.applied),
          keys: big(s.keys),
          pending: big(s.pending),
        },
      };
    }
    case 'saveSnapshot': {
      const snapshot = parseSnapshot(x.snapshot);
      if (snapshot === undefined) throw new TypeError('saveSnapshot without a snapshot');
      return { kind: 'saveSnapshot', snapshot, keepLog: bool(x.keepLog) };
    }
  }
  throw new TypeError(`unknown effect kind ${String(x.kind)}`);
}

export function parseInit(v: Json): { config: Config; restored: Restored } {
  const x = o(v);
  const c = o(x.config);
  const rc = o(c.raft);
  const rs = o(x.restored);
  return {
    config: {
      raft: {
        id: big(rc.id),
        voters: [],
        learners: [],
        members: parseMembers(rc.members),
        electionTicks: big(rc.electionTicks),
        heartbeatTicks: big(rc.heartbeatTicks),
        seed: big(rc.seed),
        disablePreVote: bool(rc.disablePreVote),
        disableCheckQuorum: bool(rc.disableCheckQuorum),
        maxInflightMsgs: big(rc.maxInflightMsgs),
        maxInflightBytes: big(rc.maxInflightBytes),
        maxMsgBytes: big(rc.maxMsgBytes),
        maxSnapshotChunkBytes: big(rc.maxSnapshotChunkBytes),
        maxSnapshotBytes: big(rc.maxSnapshotBytes),
      },
      requestTimeoutTicks: big(c.requestTimeoutTicks),
      maxPending: big(c.maxPending),
      snapshotEntries: big(c.snapshotEntries),
      snapshotRetain: big(c.snapshotRetain),
    },
    restored: withSnapshot({ hardState: parseHardState(rs.hardState), entries: parseEntries(rs.entries) }, parseSnapshot(rs.snapshot)),
  };
}

/** Returns rs with snapshot set, unless it is undefined (as decodeInit leaves it). */
function withSnapshot(rs: Restored, snapshot: Snapshot | undefined): Restored {
  if (snapshot !== undefined) rs.snapshot = snapshot;
  return rs;
}
