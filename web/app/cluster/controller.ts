// ClusterController: the main thread's side of the cluster. It runs one
// worker per node, forwards chaos to all of them, turns their reports into
// the store's signals, runs the key-value terminal's client session and
// grows and shrinks the cluster (a new node joins as a learner, catches up,
// and is promoted; a removed node stops for good).

import {
  ConfChangeType,
  EventKind,
  IndexedDBStorage,
  Op,
  ReplyCode,
  newCommand,
  noChaos,
  partitionLinks,
  type Chaos,
  type Event,
  type Member,
  type Reply,
} from '../../shim/index.js';
import { dbName, type FromWorker, type ToWorker } from './protocol.js';
import type { Capabilities, Dashboard } from '../ui/context.js';
import type { ClusterStore } from './store.js';

/** Engine timing. See README: elections are visible (1-2 s) yet quick, and stay stable under a 500 ms slow network. */
export const TICK_MS = 50;
export const ELECTION_TICKS = 20n;
export const HEARTBEAT_TICKS = 2n;
/** The Slow Network delay. */
export const SLOW_MS = 500;
/**
 * The engine's SnapshotEntries in the browser: small, so that compaction
 * and snapshot transfer show after a minute of writes.
 */
export const SNAPSHOT_ENTRIES = 50n;
/** How long the terminal keeps retrying a command before it gives up. */
const CLIENT_DEADLINE_MS = 60_000;
/** How long a node may take to join (added, caught up, promoted) before the page gives up. */
const JOIN_DEADLINE_MS = 120_000;
/** The nodes a fresh cluster starts with: the first voters. */
export const FIRST_IDS: readonly bigint[] = [1n, 2n, 3n];
/** The most nodes the page runs. */
export const MAX_NODES = 7;

/** One node the page ever started since the last Reset. */
export interface NodeRecord {
  id: bigint;
  /**
   * The configuration the node joined with (itself a learner), its
   * initial configuration at every start; absent for the first voters.
   */
  joined?: Member[];
  /** Added and promoted: the join is done. */
  voter?: boolean;
  /** Removed from the cluster: never started again. */
  removed?: boolean;
}

/** Where the page keeps its node records across reloads (localStorage in the page). */
export interface MembershipStore {
  load(): NodeRecord[] | undefined;
  save(records: readonly NodeRecord[]): void;
}

export interface ControllerOptions {
  cluster: string;
  wasmUrl: string;
  newWorker: () => Worker;
  /** The node records; without one the cluster is the first voters, and forgotten on reload. */
  membership?: MembershipStore;
}

/** Returns the first voters' records. */
function firstRecords(): NodeRecord[] {
  return FIRST_IDS.map((id) => ({ id }));
}

interface Waiting {
  node: bigint;
  resolve: (r: Reply) => void;
  reject: (e: Error) => void;
  onPending: (r: Reply) => void;
}

const eventNames = new Map<number, string>(Object.entries(EventKind).map(([k, v]) => [v, k]));

/** A random 63-bit non-zero id. */
function randomId(): bigint {
  const b = new BigUint64Array(1);
  crypto.getRandomValues(b);
  return (b[0]! & 0x7fff_ffff_ffff_ffffn) | 1n;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ClusterController implements Dashboard {
  readonly caps: Capabilities = { restart: true, preVote: true, logs: true, transfer: false, traffic: true, membership: true };
  private readonly workers = new Map<bigint, Worker>();
  private readonly waiting = new Map<number, Waiting>();
  private rid = 1;
  private chaos: Chaos = noChaos();
  private readonly clientID = randomId();
  private seq = 0n;
  private records: NodeRecord[];
  /** The nodes whose join runs (added, caught up, promoted). */
  private readonly joining = new Set<bigint>();
  /** The nodes being removed: their joins stop. */
  private readonly removing = new Set<bigint>();
  /** Bumped by Reset: joins and removals of an older cluster stop. */
  private epoch = 0;

  constructor(
    readonly store: ClusterStore,
    private readonly opts: ControllerOptions,
  ) {
    this.records = opts.membership?.load() ?? firstRecords();
    if (!this.records.some((r) => !r.removed)) this.records = firstRecords();
    this.showRecords();
  }

  /** The header's title: how many nodes are (or are becoming) members; it reads the store's signal, so it re-renders. */
  get title(): string {
    return `wraft · raft.wasm ×${this.store.nodes.value.filter((n) => !n.removed).length}`;
  }

  /** The ids of the nodes that are (or are becoming) members. */
  ids(): bigint[] {
    return this.records.filter((r) => !r.removed).map((r) => r.id);
  }

  /** Starts every member from its database, and goes on with any join a reload interrupted. */
  startAll(): void {
    for (const id of this.ids()) this.restart(id);
    for (const r of this.records) if (r.joined !== undefined && !r.voter && !r.removed) void this.join(r.id);
  }

  private showRecords(): void {
    this.store.setNodes(
      this.records.map((r) => r.id),
      this.records.filter((r) => r.removed).map((r) => r.id),
    );
  }

  private saveRecords(): void {
    this.opts.membership?.save(this.records);
  }

  private record(id: bigint): NodeRecord | undefined {
    return this.records.find((r) => r.id === id);
  }

  // ---- chaos controls ----

  /** Crashes node id: its worker is terminated, its memory gone; its database stays. */
  kill(id: bigint): void {
    const w = this.workers.get(id);
    if (w === undefined) return;
    w.terminate();
    this.workers.delete(id);
    this.store.updateNode(id, (n) => ({ ...n, online: false, status: undefined }));
    this.store.addEvent(id, 'killed (worker terminated)');
    for (const [rid, x] of this.waiting) {
      if (x.node !== id) continue;
      this.waiting.delete(rid);
      x.reject(new Error(`node ${id} was killed`));
    }
  }

  /** Kills the current leader, if any; returns its id. */
  killLeader(): bigint | undefined {
    const l = this.store.leader.value;
    if (l !== undefined) this.kill(l.id);
    return l?.id;
  }

  /** Starts (or restarts) node id in a new worker that recovers from its database. */
  restart(id: bigint): void {
    const rec = this.record(id);
    if (rec === undefined || rec.removed) return;
    if (this.workers.has(id)) this.kill(id);
    const w = this.opts.newWorker();
    this.workers.set(id, w);
    w.onmessage = (ev: MessageEvent<FromWorker>) => this.onMessage(id, ev.data);
    w.onerror = (ev) => this.store.addEvent(id, `worker error: ${ev.message}`);
    const seed = randomId();
    this.send(id, {
      type: 'start',
      id,
      members: rec.joined ?? FIRST_IDS.map((v) => ({ id: v, learner: false, addr: '' })),
      seed,
      snapshotEntries: SNAPSHOT_ENTRIES,
      preVote: this.store.preVote.value,
      electionTicks: ELECTION_TICKS,
      heartbeatTicks: HEARTBEAT_TICKS,
      tickMs: TICK_MS,
      wasmUrl: this.opts.wasmUrl,
      cluster: this.opts.cluster,
      chaos: this.chaos,
    });
    this.store.updateNode(id, (n) => ({ ...n, online: true, status: undefined }));
    this.store.addEvent(id, 'started (recovering from IndexedDB)');
  }

  /** Stops every node (their databases stay): the page shows another cluster. */
  stopAll(): void {
    for (const id of [...this.workers.keys()]) this.kill(id);
  }

  /** Not in the browser: the engine's transfer is not wired to the page. */
  transfer(_id: bigint): void {}

  restartAll(): void {
    for (const id of this.ids()) this.kill(id);
    for (const id of this.ids()) this.restart(id);
  }

  /** Cuts node id off from the others (Partition 1 vs the rest). */
  isolate(id: bigint, rogue = false): void {
    const ids = this.ids();
    const others = ids.filter((x) => x !== id);
    this.setChaos({ ...this.chaos, cut: partitionLinks(ids, [[id], others]) });
    this.store.chaos.value = { ...this.store.chaos.value, isolated: id, rogue };
  }

  /** Adds (or removes) the Slow Network delay on every link. */
  slow(on: boolean): void {
    this.setChaos({ ...this.chaos, delayMs: on ? SLOW_MS : 0 });
    this.store.chaos.value = { ...this.store.chaos.value, slow: on };
  }

  /** Ends partitions and delays. */
  heal(): void {
    this.setChaos(noChaos());
    this.store.chaos.value = { isolated: undefined, rogue: false, slow: false };
  }

  /** Turns PreVote on or off: the engine reads it at init, so every node restarts from its database. */
  setPreVote(on: boolean): void {
    this.store.preVote.value = on;
    this.restartAll();
  }

  /** Kills every node, deletes every database (of added and removed nodes too) and starts an empty cluster of three. */
  async reset(): Promise<void> {
    this.epoch++;
    this.joining.clear();
    this.store.membership.value = '';
    this.stopAll();
    this.heal();
    const all = this.records.map((r) => r.id);
    this.records = firstRecords();
    this.saveRecords();
    await Promise.all(all.map((id) => IndexedDBStorage.destroy(dbName(this.opts.cluster, id))));
    this.store.events.value = [];
    this.store.terminal.value = [];
    this.store.setNodes([]);
    this.showRecords();
    this.startAll();
  }

  // ---- membership ----

  /**
   * Adds the next node (4, then 5, ...): a new worker with an empty
   * database, started with the leader's configuration and itself as a
   * learner; then the leader adds it as a learner, and once it has applied
   * what the leader committed, promotes it to voter.
   */
  async addNode(): Promise<void> {
    const l = this.store.leader.value?.status;
    if (l === undefined) {
      this.store.membership.value = 'Add node: no leader to ask; try again once one is elected';
      return;
    }
    if (this.ids().length >= MAX_NODES) {
      this.store.membership.value = `Add node: the page runs at most ${MAX_NODES} nodes`;
      return;
    }
    const id = this.records.reduce((m, r) => (r.id > m ? r.id : m), 0n) + 1n;
    const joined: Member[] = [...l.members.map((m) => ({ ...m })), { id, learner: true, addr: '' }];
    this.records.push({ id, joined });
    this.saveRecords();
    // Nothing of an earlier cluster's node id may remain.
    await IndexedDBStorage.destroy(dbName(this.opts.cluster, id));
    this.store.addNode(id);
    this.store.addEvent(id, `joining: starts with the configuration ${joined.map((m) => `${m.id}${m.learner ? ' (learner)' : ''}`).join(', ')}`);
    this.restart(id);
    await this.join(id);
  }

  /**
   * Carries node id's join to its end, from wherever it stands: asks the
   * leader to add it as a learner if the leader does not know it, waits
   * until it has applied what the leader committed, then asks for its
   * promotion. A conflict (another change in progress, the learner behind)
   * is retried.
   */
  private async join(id: bigint): Promise<void> {
    if (this.joining.has(id)) return;
    this.joining.add(id);
    const epoch = this.epoch;
    const deadline = Date.now() + JOIN_DEADLINE_MS;
    const say = (text: string) => {
      if (this.epoch === epoch) this.store.membership.value = text;
    };
    try {
      for (;;) {
        const rec = this.record(id);
        if (this.epoch !== epoch || rec === undefined || rec.removed || this.removing.has(id)) return;
        if (Date.now() > deadline) {
          say(`node ${id}: gave up joining after ${JOIN_DEADLINE_MS / 1000} s; Remove it, or Add node again`);
          return;
        }
        const leader = this.store.leader.value;
        const m = leader?.status?.members.find((x) => x.id === id);
        if (leader?.status === undefined) {
          say(`node ${id}: waiting for a leader`);
        } else if (m === undefined) {
          say(`node ${id}: asking leader ${leader.id} to add it as a learner`);
          const r = await this.changeMembers(leader.id, ConfChangeType.AddLearner, id);
          if (r?.code === ReplyCode.Invalid) {
            say(`node ${id}: the leader refused it: ${r.error}`);
            return;
          }
          if (r?.code === ReplyCode.OK) this.store.addEvent(id, `added as a learner at index ${r.index}`);
        } else if (m.learner) {
          const applied = this.store.nodes.value.find((n) => n.id === id)?.status?.applied ?? 0n;
          const commit = leader.status.commit;
          if (applied < commit) {
            say(`node ${id}: learner, catching up (applied ${applied} of ${commit})`);
          } else {
            say(`node ${id}: caught up; asking leader ${leader.id} to promote it`);
            const r = await this.changeMembers(leader.id, ConfChangeType.Promote, id);
            if (r?.code === ReplyCode.Invalid) {
              say(`node ${id}: the leader refused the promotion: ${r.error}`);
              return;
            }
            if (r?.code === ReplyCode.OK) this.store.addEvent(id, `promoted to voter at index ${r.index}`);
          }
        } else {
          rec.voter = true;
          this.saveRecords();
          say(`node ${id} joined: ${leader.status.voters.length} voters`);
          return;
        }
        await sleep(200);
      }
    } finally {
      this.joining.delete(id);
    }
  }

  /**
   * Removes node id through the leader; once the change applied, its
   * worker stops for good and its database is deleted. Removing the leader
   * makes it step down; the others elect one of themselves.
   */
  async removeNode(id: bigint): Promise<void> {
    const rec = this.record(id);
    if (rec === undefined || rec.removed || this.removing.has(id)) return;
    this.removing.add(id);
    try {
      await this.remove(id, rec);
    } finally {
      this.removing.delete(id);
    }
  }

  private async remove(id: bigint, rec: NodeRecord): Promise<void> {
    const epoch = this.epoch;
    const deadline = Date.now() + CLIENT_DEADLINE_MS;
    // A join under way stops at its next step; wait for it, so that it adds nothing back.
    while (this.joining.has(id) && Date.now() < deadline) await sleep(50);
    for (;;) {
      if (this.epoch !== epoch) return;
      const leader = this.store.leader.value;
      const m = leader?.status?.members.find((x) => x.id === id);
      if (leader?.status !== undefined && m === undefined && leader.id !== id) break; // gone already
      if (leader?.status !== undefined) {
        this.store.membership.value = `node ${id}: asking leader ${leader.id} to remove it`;
        const r = await this.changeMembers(leader.id, ConfChangeType.Remove, id);
        if (r?.code === ReplyCode.OK) break;
        if (r?.code === ReplyCode.Invalid) {
          this.store.membership.value = `node ${id}: the leader refused to remove it: ${r.error}`;
          return;
        }
      } else {
        this.store.membership.value = `node ${id}: waiting for a leader to remove it`;
      }
      if (Date.now() > deadline) {
        this.store.membership.value = `node ${id}: not removed (timed out)`;
        return;
      }
      await sleep(200);
    }
    if (this.epoch !== epoch) return;
    rec.removed = true;
    this.saveRecords();
    this.kill(id);
    this.store.updateNode(id, (n) => ({ ...n, removed: true }));
    this.store.addEvent(id, 'removed from the cluster (worker stopped, database deleted)');
    this.store.membership.value = `node ${id} removed: ${this.ids().length} members`;
    if (this.chaos.cut.length > 0) this.heal();
    await IndexedDBStorage.destroy(dbName(this.opts.cluster, id));
  }

  /** Sends one membership change to node leader; resolves with its final reply, or undefined if the node went away. */
  private async changeMembers(leader: bigint, change: ConfChangeType, nodeID: bigint): Promise<Reply | undefined> {
    try {
      return await this.request(leader, { type: 'changeMembers', rid: 0, change, nodeID }, () => {});
    } catch {
      return undefined;
    }
  }

  private setChaos(c: Chaos): void {
    this.chaos = c;
    for (const id of this.workers.keys()) this.send(id, { type: 'chaos', chaos: c });
  }

  // ---- the terminal ----

  /** Runs one terminal line: SET key value, GET key, DEL key. */
  async exec(input: string): Promise<void> {
    const line = input.trim();
    if (line === '') return;
    const [verb = '', key = '', ...rest] = line.split(/\s+/);
    const op = verb.toUpperCase();
    const seq = this.store.addLine(line, '…', 'pending');
    const done = (out: string, state: 'ok' | 'fail') => this.store.setLine(seq, out, state);
    if (!['SET', 'GET', 'DEL'].includes(op) || key === '' || (op === 'SET' && rest.length === 0) || (op !== 'SET' && rest.length > 0)) {
      done('✗ usage: SET key value | GET key | DEL key', 'fail');
      return;
    }
    const value = line.slice(line.indexOf(key, verb.length) + key.length).trim();
    const pending = (why: string) => this.store.setLine(seq, `⏳ Pending... (${why})`, 'pending');
    try {
      if (op === 'GET') {
        const r = await this.retry((node, onPending) => this.request(node, { type: 'read', rid: 0, key }, onPending), pending);
        done(r.found ? `→ ${new TextDecoder().decode(r.value)}` : '→ (not found)', 'ok');
      } else {
        const command = newCommand(op === 'SET' ? Op.Set : Op.Del, key, {
          clientID: this.clientID,
          seq: ++this.seq,
          value: op === 'SET' ? new TextEncoder().encode(value) : new Uint8Array(0),
        });
        const r = await this.retry((node, onPending) => this.request(node, { type: 'propose', rid: 0, command }, onPending), pending);
        // A leader reports how many voters hold the entry; a node that forwarded the write reports 0.
        const acks = r.acks > 0n ? ` (${r.acks}/${r.voters} acks)` : '';
        done(`✓ Committed${acks} @ index ${r.index}`, 'ok');
      }
    } catch (err) {
      done(`✗ Failed: ${err instanceof Error ? err.message : String(err)}`, 'fail');
    }
  }

  /**
   * Sends a request to the leader (or any running node, which forwards it)
   * until a final answer: the same session sequence number on every try,
   * so a write applies at most once.
   */
  private async retry(
    attempt: (node: bigint, onPending: (r: Reply) => void) => Promise<Reply>,
    pending: (why: string) => void,
  ): Promise<Reply> {
    const deadline = Date.now() + CLIENT_DEADLINE_MS;
    for (;;) {
      const node = this.store.leader.value?.id ?? [...this.workers.keys()][0];
      if (node === undefined) throw new Error(`no quorum (only 0/${this.ids().length} alive)`);
      let r: Reply;
      try {
        r = await attempt(node, (p) => pending(p.error || 'election in progress'));
      } catch {
        pending('election in progress');
        r = { code: ReplyCode.Timeout } as Reply;
      }
      switch (r.code) {
        case ReplyCode.OK:
          return r;
        case ReplyCode.NoQuorum:
          throw new Error(r.error || 'no quorum');
        case ReplyCode.Invalid:
          throw new Error(r.error);
      }
      if (Date.now() > deadline) throw new Error('timed out');
      if (r.code !== ReplyCode.Timeout) pending(r.code === ReplyCode.NotLeader ? 'election in progress' : r.error || 'retrying');
      await sleep(200);
    }
  }

  private request(node: bigint, m: Extract<ToWorker, { rid: number }>, onPending: (r: Reply) => void): Promise<Reply> {
    const rid = this.rid++;
    return new Promise((resolve, reject) => {
      this.waiting.set(rid, { node, resolve, reject, onPending });
      this.send(node, { ...m, rid });
    });
  }

  private send(id: bigint, m: ToWorker): void {
    this.workers.get(id)?.postMessage(m);
  }

  private onMessage(id: bigint, m: FromWorker): void {
    switch (m.type) {
      case 'status':
        if (!this.workers.has(id)) break;
        this.store.updateNode(id, (n) => ({ ...n, status: m.status, terms: m.terms, firstIndex: m.firstIndex }));
        break;
      case 'event':
        this.store.addEvent(id, eventText(m.event));
        break;
      case 'traffic':
        this.store.traffic.record(m.flights);
        break;
      case 'pending':
        this.waiting.get(m.rid)?.onPending(m.reply);
        break;
      case 'reply': {
        const w = this.waiting.get(m.rid);
        this.waiting.delete(m.rid);
        w?.resolve(m.reply);
        break;
      }
      case 'failed': {
        const w = this.waiting.get(m.rid);
        this.waiting.delete(m.rid);
        w?.reject(new Error(m.error));
        break;
      }
      case 'fatal':
        this.store.addEvent(id, `fatal: ${m.error}`);
        break;
    }
  }
}

/** An engine event as the log shows it. */
export function eventText(e: Event): string {
  const name = eventNames.get(e.kind) ?? `event ${e.kind}`;
  const parts = [name, `term ${e.term}`];
  if (e.peer !== 0n) parts.push(`peer ${e.peer}`);
  if (e.index !== 0n) parts.push(`index ${e.index}`);
  if (e.text !== '') parts.push(e.text);
  return parts.join(' · ');
}
