// RemoteController: the dashboard's controls on a native cluster. One
// WebSocket per node on /v1/events fills the store; the terminal speaks
// the key-value API to the leader; the chaos buttons call the admin API.

import type { Capabilities, Dashboard } from '../ui/context.js';
import { EndpointRouter } from './endpoints.js';
import { eventsURL, eventText, faultsFor, parseStreamMessage, replyText, toEngineStatus, type ReplyJSON } from './protocol.js';
import type { RemoteStore } from './store.js';
import { adminHeaders } from './token.js';

/** How long the terminal keeps retrying a command before it gives up. */
const CLIENT_DEADLINE_MS = 60_000;
/** The Slow Network delay, as in the browser. */
export const SLOW_MS = 500;
/** How long a closed stream waits before it reconnects. */
const RECONNECT_MS = 1000;

/** A random 63-bit non-zero client id, in decimal for the session header. */
function randomClient(): string {
  const b = new BigUint64Array(1);
  crypto.getRandomValues(b);
  return String((b[0]! & 0x7fff_ffff_ffff_ffffn) | 1n);
}

export class RemoteController implements Dashboard {
  readonly caps: Capabilities = { restart: false, preVote: false, logs: false, transfer: true, traffic: false, membership: false };
  readonly title: string;
  private readonly sockets: (WebSocket | undefined)[] = [];
  private closed = false;
  private isolated: number | undefined;
  private delayMs = 0;
  private readonly client = randomClient();
  private seq = 0;
  /** Where the terminal's requests go: the leader, around frozen or slow nodes. */
  private readonly router: EndpointRouter;

  constructor(readonly store: RemoteStore) {
    this.title = `wraft · native cluster ×${store.endpoints.value.length}`;
    this.router = new EndpointRouter(store.endpoints.value);
  }

  /** Opens every node's event stream; a closed stream shows the node offline and reconnects. */
  connect(): void {
    this.store.endpoints.value.forEach((_, i) => this.open(i));
  }

  /** Closes every stream for good. */
  close(): void {
    this.closed = true;
    for (const ws of this.sockets) ws?.close();
  }

  private open(i: number): void {
    if (this.closed) return;
    const origin = this.store.endpoints.value[i]!;
    const ws = new WebSocket(eventsURL(origin));
    this.sockets[i] = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.store.addEvent(this.idAt(i), `connected to ${origin}`);
    };
    ws.onmessage = (ev: MessageEvent<string>) => {
      let m;
      try {
        m = parseStreamMessage(ev.data);
      } catch (err) {
        this.store.addEvent(this.idAt(i), String(err));
        return;
      }
      if (m.type === 'status') {
        const status = toEngineStatus(m);
        this.router.noteStatus(origin, m);
        this.store.updateAt(i, (n) => ({ ...n, id: status.id, online: true, status }));
        this.store.preVote.value = status.preVote;
      } else {
        this.store.addEvent(BigInt(m.node), eventText(m));
      }
    };
    ws.onclose = () => {
      if (this.sockets[i] !== ws) return;
      this.store.updateAt(i, (n) => ({ ...n, online: false, status: undefined }));
      if (opened) this.store.addEvent(this.idAt(i), `disconnected from ${origin}`);
      if (!this.closed) setTimeout(() => this.open(i), RECONNECT_MS);
    };
  }

  private idAt(i: number): bigint {
    return this.store.nodes.value[i]?.id ?? BigInt(i + 1);
  }

  private ids(): number[] {
    return this.store.nodes.value.map((n) => Number(n.id));
  }

  // ---- chaos controls: the admin API ----

  /** POSTs an admin endpoint of node id; a failure goes to the event log. */
  private async admin(id: bigint, path: string, body?: unknown): Promise<boolean> {
    const origin = this.store.endpointOf(id);
    if (origin === undefined) return false;
    try {
      const res = await fetch(`${origin}/v1/admin/${path}`, {
        method: 'POST',
        headers: adminHeaders(this.store.token),
        body: body === undefined ? null : JSON.stringify(body),
      });
      if (res.ok) return true;
      const text = await res.text();
      let why = text;
      try {
        why = (JSON.parse(text) as { error?: string }).error ?? text;
      } catch {
        // not JSON: the text as it is
      }
      this.store.addEvent(id, `admin ${path}: HTTP ${res.status}${res.status === 401 ? ' (wrong or missing admin token?)' : ''} ${why}`.trim());
    } catch (err) {
      this.store.addEvent(id, `admin ${path}: ${String(err)}`);
    }
    return false;
  }

  private applyFaults(): void {
    const ids = this.ids();
    for (const id of ids) void this.admin(BigInt(id), 'faults', faultsFor(id, ids, this.isolated, this.delayMs));
  }

  /** Crashes node id (POST /v1/admin/crash): its process exits. */
  kill(id: bigint): void {
    void this.admin(id, 'crash');
  }

  killLeader(): bigint | undefined {
    const l = this.store.leader.value;
    if (l !== undefined) this.kill(l.id);
    return l?.id;
  }

  isolate(id: bigint, rogue = false): void {
    this.isolated = Number(id);
    this.applyFaults();
    this.store.chaos.value = { ...this.store.chaos.value, isolated: id, rogue };
  }

  slow(on: boolean): void {
    this.delayMs = on ? SLOW_MS : 0;
    this.applyFaults();
    this.store.chaos.value = { ...this.store.chaos.value, slow: on };
  }

  heal(): void {
    this.isolated = undefined;
    this.delayMs = 0;
    for (const id of this.ids()) void this.admin(BigInt(id), 'heal');
    this.store.chaos.value = { isolated: undefined, rogue: false, slow: false };
  }

  /** Asks the leader to hand leadership to node id. */
  transfer(id: bigint): void {
    const l = this.store.leader.value;
    if (l !== undefined) void this.admin(l.id, 'transfer', { to: Number(id) });
  }

  // A native node is restarted by whoever runs it; PreVote is its --no-prevote flag.
  restart(_id: bigint): void {}
  restartAll(): void {}
  async reset(): Promise<void> {}
  setPreVote(_on: boolean): void {}
  // Membership of a native cluster: `wraft member add|remove|promote`.
  async addNode(): Promise<void> {}
  async removeNode(_id: bigint): Promise<void> {}

  // ---- the terminal: the key-value API ----

  async exec(input: string): Promise<void> {
    const line = input.trim();
    if (line === '') return;
    const [verb = '', key = '', ...rest] = line.split(/\s+/);
    const op = verb.toUpperCase();
    const seq = this.store.addLine(line, '…', 'pending');
    const done = (out: string, state: 'ok' | 'fail') => this.store.setLine(seq, out, state);
    if ((op !== 'SET' && op !== 'GET' && op !== 'DEL') || key === '' || (op === 'SET' && rest.length === 0) || (op !== 'SET' && rest.length > 0)) {
      done('✗ usage: SET key value | GET key | DEL key', 'fail');
      return;
    }
    const value = line.slice(line.indexOf(key, verb.length) + key.length).trim();
    const pending = (why: string) => this.store.setLine(seq, `⏳ Pending... (${why})`, 'pending');
    const init: RequestInit = { method: op === 'SET' ? 'PUT' : op === 'DEL' ? 'DELETE' : 'GET' };
    if (op !== 'GET') {
      // One session sequence number for every try: a retried write applies at most once.
      init.headers = { 'X-Wraft-Client': this.client, 'X-Wraft-Seq': String(++this.seq) };
      if (op === 'SET') init.body = value;
    }
    try {
      done(replyText(op, await this.router.request(`/v1/kv/${encodeURIComponent(key)}`, init, { deadlineMs: CLIENT_DEADLINE_MS, onPending: pending })), 'ok');
    } catch (err) {
      done(`✗ Failed: ${err instanceof Error ? err.message : String(err)}`, 'fail');
    }
  }
}
