// The dashboard's business state: signals the cluster controller fills
// from what the workers report. Components read it; they own no cluster
// logic.

import { computed, signal } from '@preact/signals';

import { Role, type EngineStatus } from '../../shim/index.js';
import { createTrafficStore } from './traffic.js';

export interface NodeView {
  id: bigint;
  /** Whether the node's worker runs. */
  online: boolean;
  /** Removed from the cluster: its worker is stopped for good and it counts for nothing. */
  removed: boolean;
  /** The engine's last status report since the worker started. */
  status: EngineStatus | undefined;
  /** The terms of the newest entries of the node's durable log, from firstIndex. */
  terms: bigint[];
  firstIndex: bigint;
}

export interface EventLine {
  seq: number;
  /** Milliseconds since the page started. */
  at: number;
  node: bigint;
  text: string;
}

export type LineState = 'pending' | 'ok' | 'fail';

export interface TerminalLine {
  seq: number;
  input: string;
  output: string;
  state: LineState;
}

/** The faults in force, as the chaos controls show them. */
export interface ChaosView {
  /** The isolated node, if any (Partition or Rogue Node). */
  isolated: bigint | undefined;
  rogue: boolean;
  slow: boolean;
}

/** The most events the log keeps. */
export const MAX_EVENTS = 200;

/** The role a card shows. */
export function roleName(n: NodeView): string {
  if (n.removed) return 'removed';
  if (!n.online) return 'offline';
  if (n.status === undefined) return 'starting';
  switch (n.status.role) {
    case Role.Leader:
      return 'leader';
    case Role.Candidate:
      return 'candidate';
    case Role.PreCandidate:
      return 'pre-candidate';
    default:
      return 'follower';
  }
}

/** The LED colour of a role: blue leader, green follower, yellow candidate, red offline. */
export function ledColour(role: string): string {
  switch (role) {
    case 'leader':
      return 'blue';
    case 'follower':
      return 'green';
    case 'candidate':
    case 'pre-candidate':
      return 'yellow';
    case 'offline':
      return 'red';
    default:
      return 'grey';
  }
}

/** A card for node id, not yet started. */
export function newNodeView(id: bigint, removed = false): NodeView {
  return { id, online: false, removed, status: undefined, terms: [], firstIndex: 1n };
}

/**
 * What node id is in the configuration: as the leader knows it, else as
 * the freshest running node knows it; "removed" for a removed node,
 * undefined while no running node knows it (a node not yet added).
 */
export function membershipOf(nodes: readonly NodeView[], id: bigint): 'voter' | 'learner' | 'removed' | undefined {
  const self = nodes.find((n) => n.id === id);
  if (self?.removed) return 'removed';
  let best: NodeView | undefined;
  for (const n of nodes) {
    if (!n.online || n.removed || n.status === undefined) continue;
    const s = n.status;
    const b = best?.status;
    if (b === undefined || (s.role === Role.Leader && b.role !== Role.Leader) || (s.role === b.role && s.commit > b.commit)) best = n;
  }
  const m = best?.status?.members.find((x) => x.id === id);
  if (m === undefined) return undefined;
  return m.learner ? 'learner' : 'voter';
}

export function createClusterStore(ids: readonly bigint[], preVote: boolean) {
  const nodes = signal<NodeView[]>(ids.map((id) => newNodeView(id)));
  const events = signal<EventLine[]>([]);
  const terminal = signal<TerminalLine[]>([]);
  const chaos = signal<ChaosView>({ isolated: undefined, rogue: false, slow: false });
  const preVoteOn = signal(preVote);

  /** The online leader of the highest term. */
  const leader = computed(() => {
    let best: NodeView | undefined;
    for (const n of nodes.value) {
      if (!n.online || n.status?.role !== Role.Leader) continue;
      if (best === undefined || n.status.term > best.status!.term) best = n;
    }
    return best;
  });
  const term = computed(() => nodes.value.reduce((t, n) => (n.online && n.status && n.status.term > t ? n.status.term : t), 0n));
  /** A leader that hears from a majority of voters. */
  const quorum = computed(() => {
    const l = leader.value?.status;
    return l !== undefined && Number(l.alive) >= Math.floor(l.voters.length / 2) + 1;
  });
  const alive = computed(() => nodes.value.filter((n) => n.online && !n.removed).length);
  /** The voters the leader counts, and how many make a majority; undefined without a leader. */
  const voters = computed(() => {
    const l = leader.value?.status;
    if (l === undefined) return undefined;
    return { voters: l.voters.length, majority: Math.floor(l.voters.length / 2) + 1, alive: Number(l.alive) };
  });
  /** What a membership change under way is doing, for the membership controls. */
  const membership = signal('');

  let eventSeq = 0;
  let lineSeq = 0;
  const t0 = Date.now();

  return {
    nodes,
    events,
    terminal,
    chaos,
    preVote: preVoteOn,
    leader,
    term,
    quorum,
    alive,
    voters,
    membership,
    /** Messages between the nodes (the in-browser cluster's workers report them). */
    traffic: createTrafficStore(),
    updateNode(id: bigint, f: (n: NodeView) => NodeView): void {
      nodes.value = nodes.value.map((n) => (n.id === id ? f(n) : n));
    },
    /** Adds a card for node id, unless there is one. */
    addNode(id: bigint): void {
      if (nodes.value.some((n) => n.id === id)) return;
      nodes.value = [...nodes.value, newNodeView(id)].sort((a, b) => (a.id < b.id ? -1 : 1));
    },
    /** Shows exactly the nodes ids (ids in removed as removed), in id order. */
    setNodes(ids: readonly bigint[], removed: readonly bigint[] = []): void {
      const old = new Map(nodes.value.map((n) => [n.id, n]));
      nodes.value = [...ids]
        .sort((a, b) => (a < b ? -1 : 1))
        .map((id) => ({ ...(old.get(id) ?? newNodeView(id)), removed: removed.includes(id) }));
    },
    addEvent(node: bigint, text: string): void {
      const e: EventLine = { seq: eventSeq++, at: Date.now() - t0, node, text };
      events.value = [e, ...events.value].slice(0, MAX_EVENTS);
    },
    addLine(input: string, output: string, state: LineState): number {
      const seq = lineSeq++;
      terminal.value = [...terminal.value, { seq, input, output, state }].slice(-100);
      return seq;
    },
    setLine(seq: number, output: string, state: LineState): void {
      terminal.value = terminal.value.map((l) => (l.seq === seq ? { ...l, output, state } : l));
    },
  };
}

export type ClusterStore = ReturnType<typeof createClusterStore>;
