// Messages between the page and a node's worker (structured clone keeps
// bigints and Uint8Arrays). The page sends commands; the worker answers
// with the engine's status, events and replies, nothing invented.

import type { Chaos, Command, ConfChangeType, EngineStatus, Event, Member, Reply } from '../../shim/index.js';

/** Starts the node: what its init record needs besides what storage holds. */
export interface StartMsg {
  type: 'start';
  id: bigint;
  /**
   * The initial configuration: the three first voters, or, for a node that
   * joined, the configuration it joined with (itself a learner). A snapshot
   * or a configuration change in its log replaces it.
   */
  members: Member[];
  seed: bigint;
  /** The engine's SnapshotEntries: how far the log grows past a snapshot before the next. */
  snapshotEntries: bigint;
  preVote: boolean;
  electionTicks: bigint;
  heartbeatTicks: bigint;
  tickMs: number;
  /** Absolute URL of raft.wasm. */
  wasmUrl: string;
  /** The BroadcastChannel and IndexedDB database prefix of the cluster. */
  cluster: string;
  chaos: Chaos;
}

export type ToWorker =
  | StartMsg
  | { type: 'propose'; rid: number; command: Command }
  | { type: 'read'; rid: number; key: string }
  | { type: 'changeMembers'; rid: number; change: ConfChangeType; nodeID: bigint }
  | { type: 'chaos'; chaos: Chaos };

/**
 * Messages a node sent during one tick to one peer, of one type and one
 * fate, folded into one report (heartbeats every 100 ms stay a handful).
 */
export interface Flight {
  from: bigint;
  to: bigint;
  /** The wire MessageType. */
  type: number;
  /** Date.now() when the first of them left. */
  sentAt: number;
  /** The chaos layer's delay. */
  delayMs: number;
  /** Lost at the sender: a cut link or the drop rate. */
  dropped: boolean;
  count: number;
}

export type FromWorker =
  | { type: 'status'; status: EngineStatus; terms: bigint[]; firstIndex: bigint }
  | { type: 'event'; event: Event }
  | { type: 'traffic'; flights: Flight[] }
  | { type: 'pending'; rid: number; reply: Reply }
  | { type: 'reply'; rid: number; reply: Reply }
  | { type: 'failed'; rid: number; error: string }
  | { type: 'fatal'; error: string };

/** The IndexedDB database of node id in cluster. */
export function dbName(cluster: string, id: bigint): string {
  return `${cluster}-node-${id}`;
}
