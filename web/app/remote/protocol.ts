// The native daemon's HTTP/JSON API as the dashboard reads it (Go's
// package api): the /v1/events stream's messages, the key-value replies,
// the admin bodies; and how they become what the node cards show.

import { Role, type EngineStatus } from '../../shim/index.js';

/** api.Status, with its "type" on the events stream. */
export interface StatusJSON {
  type: 'status';
  id: number;
  role: string;
  term: number;
  vote: number;
  leader: number;
  commit: number;
  applied: number;
  last_index: number;
  last_term: number;
  voters: number[] | null;
  alive: number;
  keys: number;
  pending: number;
  pre_vote: boolean;
  check_quorum: boolean;
  transferee?: number;
  snapshot?: number;
  first_index?: number;
  members?: { id: number; role: string }[] | null;
}

/** api.Event. */
export interface EventJSON {
  type: 'event';
  node: number;
  kind: string;
  term: number;
  peer?: number;
  index?: number;
  text: string;
}

export type StreamMessage = StatusJSON | EventJSON;

/** api.Reply: the answer to PUT, GET and DELETE /v1/kv/{key}. */
export interface ReplyJSON {
  code: string;
  ok: boolean;
  index?: number;
  term?: number;
  acks?: number;
  voters: number;
  alive: number;
  leader: number;
  found: boolean;
  value?: string;
  error?: string;
  waited?: boolean;
}

/** api.Faults: the body of POST /v1/admin/faults. */
export interface FaultsJSON {
  blocked: number[];
  delay_ms: number;
  drop_rate: number;
}

/** Parses one text message of /v1/events; throws on anything else. */
export function parseStreamMessage(text: string): StreamMessage {
  const m = JSON.parse(text) as { type?: unknown };
  if (m === null || typeof m !== 'object' || (m.type !== 'status' && m.type !== 'event')) {
    throw new Error(`unexpected message on /v1/events: ${text.slice(0, 80)}`);
  }
  return m as StreamMessage;
}

const ROLES: Record<string, Role> = {
  follower: Role.Follower,
  'pre-candidate': Role.PreCandidate,
  candidate: Role.Candidate,
  leader: Role.Leader,
};

const big = (v: number | undefined) => BigInt(v ?? 0);

/** A status from the stream as the engine's status the cards show. */
export function toEngineStatus(s: StatusJSON): EngineStatus {
  return {
    id: big(s.id),
    role: ROLES[s.role] ?? Role.Follower,
    term: big(s.term),
    vote: big(s.vote),
    leader: big(s.leader),
    commit: big(s.commit),
    lastIndex: big(s.last_index),
    lastTerm: big(s.last_term),
    stable: big(s.last_index),
    snapshot: big(s.snapshot),
    firstIndex: big(s.first_index),
    voters: (s.voters ?? []).map((v) => BigInt(v)),
    members: (s.members ?? []).map((m) => ({ id: BigInt(m.id), learner: m.role === 'learner', addr: '' })),
    alive: big(s.alive),
    progress: [],
    transferee: big(s.transferee),
    preVote: s.pre_vote,
    checkQuorum: s.check_quorum,
    applied: big(s.applied),
    keys: big(s.keys),
    pending: big(s.pending),
  };
}

/** An event as the log shows it, with the in-browser cluster's kind names ("pre-vote-started" → "PreVoteStarted"). */
export function eventText(e: EventJSON): string {
  const name = e.kind.replace(/(^|-)([a-z])/g, (_m, _d: string, c: string) => c.toUpperCase());
  const parts = [name, `term ${e.term}`];
  if (e.peer) parts.push(`peer ${e.peer}`);
  if (e.index) parts.push(`index ${e.index}`);
  if (e.text !== '') parts.push(e.text);
  return parts.join(' · ');
}

/**
 * Parses the endpoints field: comma-separated base URLs, where a bare port
 * reuses the previous entry's scheme and host ("http://127.0.0.1:8001,8002,8003").
 * Returns each endpoint's origin; throws on a malformed entry.
 */
export function parseEndpoints(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    let url: URL;
    if (/^\d+$/.test(part)) {
      const prev = out.at(-1);
      if (prev === undefined) throw new Error(`"${part}": a bare port needs a full URL before it`);
      url = new URL(prev);
      url.port = part;
    } else {
      url = new URL(/^[a-z]+:\/\//i.test(part) ? part : `http://${part}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`"${part}": not an http(s) URL`);
    out.push(url.origin);
  }
  if (out.length === 0) throw new Error('no endpoint given');
  return out;
}

/** The WebSocket URL of an endpoint's /v1/events. */
export function eventsURL(origin: string): string {
  return `${origin.replace(/^http/, 'ws')}/v1/events`;
}

/** The faults node id gets: cut off from the others if it is the isolated one, from the isolated one otherwise. */
export function faultsFor(id: number, ids: readonly number[], isolated: number | undefined, delayMs: number): FaultsJSON {
  let blocked: number[] = [];
  if (isolated !== undefined) blocked = id === isolated ? ids.filter((x) => x !== id) : [isolated];
  return { blocked, delay_ms: delayMs, drop_rate: 0 };
}

/** The terminal's answer to a final reply. */
export function replyText(op: 'SET' | 'GET' | 'DEL', r: ReplyJSON): string {
  if (op === 'GET') return r.found ? `→ ${r.value ?? ''}` : '→ (not found)';
  const acks = r.acks ? ` (${r.acks}/${r.voters} acks)` : '';
  return `✓ Committed${acks} @ index ${r.index ?? 0}`;
}
