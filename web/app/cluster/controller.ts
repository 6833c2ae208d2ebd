// ClusterController: the main thread's side of the cluster. It runs one
// worker per node, forwards chaos to all of them, turns their reports into
// the store's signals and runs the key-value terminal's client session.

import {
  EventKind,
  IndexedDBStorage,
  Op,
  ReplyCode,
  newCommand,
  noChaos,
  partitionLinks,
  type Chaos,
  type Event,
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
/** How long the terminal keeps retrying a command before it gives up. */
const CLIENT_DEADLINE_MS = 60_000;

export interface ControllerOptions {
  ids: bigint[];
  cluster: string;
  wasmUrl: string;
  newWorker: () => Worker;
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
  readonly caps: Capabilities = { restart: true, preVote: true, logs: true, transfer: false, traffic: true };
  readonly title = 'wraft · raft.wasm ×3';
  private readonly workers = new Map<bigint, Worker>();
  private readonly waiting = new Map<number, Waiting>();
  private rid = 1;
  private chaos: Chaos = noChaos();
  private readonly clientID = randomId();
  private seq = 0n;

  constructor(
    readonly store: ClusterStore,
    private readonly opts: ControllerOptions,
  ) {}

  /** Starts every node from its database. */
  startAll(): void {
    for (const id of this.opts.ids) this.restart(id);
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
    if (this.workers.has(id)) this.kill(id);
    const w = this.opts.newWorker();
    this.workers.set(id, w);
    w.onmessage = (ev: MessageEvent<FromWorker>) => this.onMessage(id, ev.data);
    w.onerror = (ev) => this.store.addEvent(id, `worker error: ${ev.message}`);
    const seed = randomId();
    this.send(id, {
      type: 'start',
      id,
      voters: this.opts.ids,
      seed,
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
    for (const id of this.opts.ids) this.kill(id);
  }

  /** Not in the browser: the engine's transfer is not wired to the page. */
  transfer(_id: bigint): void {}

  restartAll(): void {
    for (const id of this.opts.ids) this.kill(id);
    for (const id of this.opts.ids) this.restart(id);
  }

  /** Cuts node id off from the others (Partition 1 vs 2). */
  isolate(id: bigint, rogue = false): void {
    const others = this.opts.ids.filter((x) => x !== id);
    this.setChaos({ ...this.chaos, cut: partitionLinks(this.opts.ids, [[id], others]) });
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

  /** Kills every node, deletes every database and starts an empty cluster. */
  async reset(): Promise<void> {
    for (const id of this.opts.ids) this.kill(id);
    this.heal();
    await Promise.all(this.opts.ids.map((id) => IndexedDBStorage.destroy(dbName(this.opts.cluster, id))));
    this.store.events.value = [];
    this.store.terminal.value = [];
    for (const id of this.opts.ids) this.store.updateNode(id, (n) => ({ ...n, terms: [], firstIndex: 1n }));
    this.startAll();
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
      if (node === undefined) throw new Error(`no quorum (only 0/${this.opts.ids.length} alive)`);
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
