// Messages in flight between the nodes, as the workers report them (see
// Flight in protocol.ts): a count per message type since the page loaded,
// and the few dots the page draws. Every message is counted; only some are
// drawn, so heartbeats every 100 ms do not flood the page.

import { signal } from '@preact/signals';

import { MessageType } from '../../shim/index.js';
import type { Flight } from './protocol.js';

/** The most dots on screen at once. */
export const MAX_DOTS = 24;
/** At most one heartbeat (or heartbeat response) dot per link per this many milliseconds. */
export const HEARTBEAT_DOT_MS = 600;
/** The shortest a dot takes to cross, so that an undelayed message is still seen. */
export const MIN_DOT_MS = 400;
/** How long a dropped message's dot takes to fade. */
export const FADE_MS = 400;

/** The message types the legend names, in its order, with their colour and the dot's label. */
export const MESSAGE_KINDS: readonly { type: number; name: string; label: string; colour: string }[] = [
  { type: MessageType.PreVote, name: 'PreVote', label: 'P', colour: '#f97316' },
  { type: MessageType.PreVoteResp, name: 'PreVoteResp', label: 'p', colour: '#fdba74' },
  { type: MessageType.Vote, name: 'Vote', label: 'V', colour: '#eab308' },
  { type: MessageType.VoteResp, name: 'VoteResp', label: 'v', colour: '#fde68a' },
  { type: MessageType.App, name: 'App', label: 'A', colour: '#3b82f6' },
  { type: MessageType.AppResp, name: 'AppResp', label: 'a', colour: '#93c5fd' },
  { type: MessageType.Heartbeat, name: 'Heartbeat', label: 'H', colour: '#22c55e' },
  { type: MessageType.HeartbeatResp, name: 'HeartbeatResp', label: 'h', colour: '#86efac' },
  { type: MessageType.TimeoutNow, name: 'TimeoutNow', label: 'T', colour: '#ef4444' },
];
const OTHER = { name: 'other', label: '·', colour: '#7b8aa0' };

/** The legend entry of a message type (forwarded proposals and reads are "other"). */
export function messageKind(type: number): { name: string; label: string; colour: string } {
  return MESSAGE_KINDS.find((k) => k.type === type) ?? OTHER;
}

/** One dot on its way from one card to another. */
export interface Dot {
  id: number;
  from: bigint;
  to: bigint;
  type: number;
  /** How long it takes to cross (or, dropped, to reach half-way and fade). */
  durationMs: number;
  dropped: boolean;
  /** How many messages it stands for. */
  count: number;
}

const isHeartbeat = (t: number) => t === MessageType.Heartbeat || t === MessageType.HeartbeatResp;

export function createTrafficStore(now: () => number = Date.now) {
  /** Messages sent since the page loaded, by message name (dropped ones included). */
  const counts = signal<Record<string, number>>({});
  /** Messages lost at their sender since the page loaded. */
  const dropped = signal(0);
  const dots = signal<Dot[]>([]);
  const lastHeartbeat = new Map<string, number>();
  let dotSeq = 0;

  function draw(f: Flight): void {
    const t = now();
    if (dots.value.length >= MAX_DOTS) return;
    if (isHeartbeat(f.type)) {
      const link = `${f.from}>${f.to}/${f.type}`;
      if (t - (lastHeartbeat.get(link) ?? -Infinity) < HEARTBEAT_DOT_MS) return;
      lastHeartbeat.set(link, t);
    }
    // What is left of its real flight (the chaos layer's delay), but long enough to be seen.
    const left = f.sentAt + f.delayMs - t;
    const dot: Dot = {
      id: dotSeq++,
      from: f.from,
      to: f.to,
      type: f.type,
      durationMs: f.dropped ? MIN_DOT_MS : Math.max(MIN_DOT_MS, left),
      dropped: f.dropped,
      count: f.count,
    };
    dots.value = [...dots.value, dot];
    setTimeout(() => (dots.value = dots.value.filter((d) => d !== dot)), dot.durationMs + (f.dropped ? FADE_MS : 0));
  }

  return {
    counts,
    dropped,
    dots,
    /** Counts a worker's report and adds the dots the caps allow. */
    record(flights: readonly Flight[]): void {
      const c = { ...counts.value };
      let lost = 0;
      for (const f of flights) {
        const name = messageKind(f.type).name;
        c[name] = (c[name] ?? 0) + f.count;
        if (f.dropped) lost += f.count;
        draw(f);
      }
      counts.value = c;
      if (lost > 0) dropped.value += lost;
    },
  };
}

export type TrafficStore = ReturnType<typeof createTrafficStore>;
