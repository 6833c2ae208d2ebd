// The reference simulation, the twin of Go's package refsim: a tiny
// deterministic driver of a three-node cluster whose trace hash must be
// the same through every core. refsim/refsim.go describes the algorithm;
// this file follows it to the letter. Golden hashes, made with Go's native
// engine, are in testdata/vectors/refsim.json.

import { newCommand, Op } from './encoding/command.js';
import { emptyRestored, newConfig, type Config, type Restored } from './encoding/init.js';
import type { Input } from './encoding/inputs.js';
import { EventKind, decodeMessage, encodeMessage, Role } from './encoding/raft.js';
import { MAX_U64 } from './encoding/primitives.js';
import type { Core } from './node.js';
import { MemoryStorage } from './storage.js';

/** Starts a core, such as a RaftNode initialized with config and restored. */
export type RefsimFactory = (config: Config, restored: Restored) => Core | Promise<Core>;

/** Counts of what happened in a run, as Go's refsim.Stats. */
export interface RefsimStats {
  batches: number;
  elected: number;
  writesOK: number;
  readsOK: number;
  otherReply: number;
  delivered: number;
  dropped: number;
}

/** Splitmix64 (Steele, Lea and Flood), in bigint with explicit masking to match Go's uint64. */
export class SplitMix64 {
  constructor(private state: bigint) {
    this.state &= MAX_U64;
  }

  next(): bigint {
    this.state = (this.state + 0x9e3779b97f4a7c15n) & MAX_U64;
    let z = this.state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MAX_U64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MAX_U64;
    return z ^ (z >> 31n);
  }

  /** Returns next() % n as a number; n must be small and positive. */
  below(n: number): number {
    return Number(this.next() % BigInt(n));
  }
}

/** The most messages in flight: a Send to a full queue is dropped. */
const MAX_QUEUE = 32;

interface SimNode {
  id: bigint;
  core: Core;
  storage: MemoryStorage;
  seq: bigint;
  leader: boolean;
}

/**
 * Runs the reference simulation for steps steps from seed with cores that
 * factory starts, and resolves with its trace hash (SHA-256, lowercase
 * hex) and counts. A core failure (a thrown CoreError) rejects.
 */
export async function runRefsim(
  seed: bigint,
  steps: number,
  factory: RefsimFactory,
): Promise<{ sha256: string; stats: RefsimStats }> {
  const rng = new SplitMix64(seed);
  const stats: RefsimStats = { batches: 0, elected: 0, writesOK: 0, readsOK: 0, otherReply: 0, delivered: 0, dropped: 0 };
  const nodes: SimNode[] = [];
  for (const id of [1n, 2n, 3n]) {
    const config = newConfig(id, [1n, 2n, 3n], rng.next(), { electionTicks: 10n, heartbeatTicks: 1n });
    nodes.push({ id, core: await factory(config, emptyRestored()), storage: new MemoryStorage(), seq: 0n, leader: false });
  }
  const queue: { to: bigint; bytes: Uint8Array }[] = [];
  const writes = new Set<bigint>();
  const chunks: Uint8Array[] = [];
  let nextRequest = 1n;

  const handle = (n: SimNode, first: Input): void => {
    let input: Input | undefined = first;
    while (input !== undefined) {
      const { effects, bytes } = n.core.handleBatch([input]);
      const hdr = new Uint8Array(5);
      hdr[0] = Number(n.id);
      new DataView(hdr.buffer).setUint32(1, bytes.length, true);
      chunks.push(hdr, bytes);
      stats.batches++;
      input = undefined;
      for (const e of effects) {
        switch (e.kind) {
          case 'persist': {
            n.storage.apply(e);
            const last = e.entries[e.entries.length - 1];
            if (last !== undefined) input = { kind: 'storageAck', index: last.index, term: last.term };
            break;
          }
          case 'saveSnapshot':
            n.storage.applySnapshot(e.snapshot, e.keepLog);
            break;
          case 'send':
            if (queue.length >= MAX_QUEUE) {
              stats.dropped++;
              break;
            }
            queue.push({ to: e.message.to, bytes: e.encoded ?? encodeMessage(e.message) });
            break;
          case 'reply':
            if (e.code === 1) break; // pending
            if (e.code !== 0) stats.otherReply++;
            else if (writes.has(e.requestID)) stats.writesOK++;
            else stats.readsOK++;
            writes.delete(e.requestID);
            break;
          case 'emit':
            // RaftNode throws a CoreError first; a native core would get here.
            if (e.event.kind === EventKind.CoreError) throw new Error(`node ${n.id}: core error: ${e.event.text}`);
            break;
          case 'statusReport': {
            const leader = e.status.role === Role.Leader;
            if (leader && !n.leader) stats.elected++;
            n.leader = leader;
            break;
          }
        }
      }
    }
  };

  const deliver = (i: number): void => {
    const [f] = queue.splice(i, 1);
    if (f === undefined || f.to < 1n || f.to > 3n) return;
    stats.delivered++;
    handle(nodes[Number(f.to) - 1]!, { kind: 'receive', message: decodeMessage(f.bytes), encoded: f.bytes });
  };
  const pick = (): SimNode => nodes[rng.below(3)]!;
  const key = (): string => `k${rng.below(4)}`;

  for (let step = 0; step < steps; step++) {
    try {
      const r = rng.below(100);
      if (r < 25) {
        handle(pick(), { kind: 'tick' });
      } else if (r < 70) {
        if (queue.length > 0) deliver(0);
      } else if (r < 88) {
        if (queue.length > 0) deliver(rng.below(queue.length));
      } else if (r < 90) {
        if (queue.length > 0) {
          queue.splice(rng.below(queue.length), 1);
          stats.dropped++;
        }
      } else if (r < 97) {
        const n = pick();
        const k = key();
        n.seq++;
        const requestID = nextRequest++;
        writes.add(requestID);
        const value = new TextEncoder().encode(`v${step}`);
        handle(n, { kind: 'propose', requestID, command: newCommand(Op.Set, k, { clientID: n.id, seq: n.seq, value }) });
      } else {
        const n = pick();
        const k = key();
        handle(n, { kind: 'read', requestID: nextRequest++, key: k, stale: false });
      }
    } catch (err) {
      throw new Error(`refsim: seed ${seed} step ${step}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  let total = 0;
  for (const c of chunks) total += c.length;
  const all = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.length;
  }
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
  return { sha256: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join(''), stats };
}
