// EndpointRouter: which node of a native cluster the dashboard's terminal
// sends a request to, as Go's package client does it.
//
// It remembers the leader (from the status stream, from status probes and
// from the leader named in every answer) and sends requests there. With no
// leader known it asks every endpoint's /v1/status at once, each for at
// most probeTimeoutMs, and takes the first that says it leads; else it
// tries the endpoints in the order given. A request unanswered for
// stallMs, at an endpoint that then does not answer a status probe either
// (a node stopped by SIGSTOP, or cut off), is abandoned and sent to the
// next endpoint, and that endpoint is passed over for suspectMs. Requests
// carry their session headers unchanged on every try, so a write sent
// again applies at most once.

import type { ReplyJSON } from './protocol.js';

export interface RouterOptions {
  /** Bounds each status probe (default 500 ms, about one election timeout). */
  probeTimeoutMs?: number;
  /** How long a request waits before its endpoint is probed (default 500 ms). */
  stallMs?: number;
  /** How long an endpoint that stalled is passed over (default 5 s). */
  suspectMs?: number;
  /** The fetch to use (tests pass their own). */
  fetch?: typeof fetch;
}

/** What a status probe or the status stream says about a node. */
export interface NodeStatus {
  id: number;
  role: string;
  leader: number;
}

/** A request abandoned because its endpoint stopped answering. */
export class StallError extends Error {
  constructor(readonly endpoint: string) {
    super(`${endpoint} stopped answering`);
  }
}

/** Options of one request. */
export interface RequestOptions {
  /** How long the request may take, through elections and retries. */
  deadlineMs: number;
  /** A stale read: any node may answer it, so the leader is not looked for. */
  stale?: boolean;
  /** Told why the request waits (an election, an unreachable node). */
  onPending?: (why: string) => void;
}

/** The longest interval between the probes of a request that waits at a live endpoint. */
const MAX_PROBE_INTERVAL_MS = 4000;

/** Resolves after ms, or at once when signal aborts. */
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });

export class EndpointRouter {
  readonly probeTimeoutMs: number;
  readonly stallMs: number;
  readonly suspectMs: number;
  private readonly fetch: typeof fetch;
  /** The last known leader's endpoint. */
  private leader: string | undefined;
  /** Index of the endpoint to try next when no leader is known. */
  private next = 0;
  private readonly ids = new Map<number, string>();
  /** Endpoints that stalled, with the time (ms since the epoch) until which they are passed over. */
  private readonly suspects = new Map<string, number>();
  /** Endpoints with a status probe in flight. */
  private readonly probing = new Set<string>();
  /** The leader discovery in progress, which every request that needs the leader shares. */
  private round: Promise<number> | undefined;

  constructor(
    readonly endpoints: readonly string[],
    opts: RouterOptions = {},
  ) {
    if (endpoints.length === 0) throw new Error('no endpoint given');
    this.probeTimeoutMs = opts.probeTimeoutMs ?? 500;
    this.stallMs = opts.stallMs ?? 500;
    this.suspectMs = opts.suspectMs ?? 5000;
    this.fetch = opts.fetch ?? ((input, init) => fetch(input, init));
  }

  /** Whether ep is passed over now. */
  isSuspect(ep: string): boolean {
    const until = this.suspects.get(ep);
    if (until === undefined) return false;
    if (Date.now() < until) return true;
    this.suspects.delete(ep);
    return false;
  }

  /** The known leader's endpoint, unless it is suspect. */
  leaderEndpoint(): string | undefined {
    return this.leader !== undefined && !this.isSuspect(this.leader) ? this.leader : undefined;
  }

  /** Records a status that endpoint ep reported (on its event stream, say): its id, and whether it leads. */
  noteStatus(ep: string, s: NodeStatus): void {
    this.ids.set(s.id, ep);
    if (s.role === 'leader' && !this.isSuspect(ep)) this.leader = ep;
    else if (this.leader === ep) this.leader = undefined;
  }

  /**
   * The endpoint for the next attempt: the leader if known and it has not
   * failed this request; else the endpoints in order from where the last
   * pick left off, first those that neither failed this request nor are
   * suspect (fresh), then those not suspect, then the rest.
   */
  pick(failed: ReadonlySet<string>): { ep: string; fresh: boolean } {
    const l = this.leaderEndpoint();
    if (l !== undefined && !failed.has(l)) return { ep: l, fresh: true };
    const n = this.endpoints.length;
    let best = 0;
    let bestRank = 4;
    for (let i = 0; i < n; i++) {
      const j = (this.next + i) % n;
      const ep = this.endpoints[j]!;
      const rank = (failed.has(ep) ? 1 : 0) + (this.isSuspect(ep) ? 2 : 0);
      if (rank < bestRank) [best, bestRank] = [j, rank];
    }
    this.next = (best + 1) % n;
    return { ep: this.endpoints[best]!, fresh: bestRank === 0 };
  }

  /**
   * Points the router at the leader and returns its id, or 0 when no
   * endpoint says it leads: every endpoint neither suspect nor already
   * probed is asked at once, and the first leader to answer wins. Probes
   * that outlast it run on to their timeout and record what they learn.
   */
  findLeader(): Promise<number> {
    this.round ??= this.discover().finally(() => {
      this.round = undefined;
    });
    return this.round;
  }

  private discover(): Promise<number> {
    return new Promise((resolve) => {
      const eps = this.endpoints.filter((ep) => !this.probing.has(ep) && !this.isSuspect(ep));
      let left = eps.length;
      if (left === 0) resolve(0);
      for (const ep of eps) {
        void this.probe(ep).then((st) => {
          if (st?.role === 'leader') {
            this.leader = ep;
            resolve(st.id);
          }
          if (--left === 0) resolve(0);
        });
      }
    });
  }

  /** Asks ep's status for at most probeTimeoutMs; one that does not answer in time becomes suspect. */
  private async probe(ep: string): Promise<NodeStatus | undefined> {
    this.probing.add(ep);
    const ctl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ctl.abort();
    }, this.probeTimeoutMs);
    try {
      const res = await this.fetch(`${ep}/v1/status`, { signal: ctl.signal });
      if (!res.ok) return undefined;
      const st = (await res.json()) as NodeStatus;
      this.ids.set(st.id, ep);
      this.suspects.delete(ep);
      return st;
    } catch {
      if (timedOut) this.markSuspect(ep);
      return undefined;
    } finally {
      clearTimeout(timer);
      this.probing.delete(ep);
    }
  }

  private markSuspect(ep: string): void {
    this.suspects.set(ep, Date.now() + this.suspectMs);
    if (this.leader === ep) this.leader = undefined;
  }

  /**
   * Sends one request to ep and returns the answer's status and text.
   * After stallMs without an answer ep's status is probed: while ep
   * answers, the request waits on (probed again at doubling intervals);
   * when it does not, the request is abandoned, ep becomes suspect, and
   * the promise rejects with a StallError.
   */
  async attempt(ep: string, path: string, init: RequestInit, signal: AbortSignal): Promise<{ status: number; text: string }> {
    const ctl = new AbortController();
    const onAbort = () => ctl.abort();
    signal.addEventListener('abort', onAbort);
    type Outcome = { kind: 'answer'; status: number; text: string } | { kind: 'error'; err: unknown } | { kind: 'tick' } | { kind: 'probe'; alive: boolean };
    // Never rejects: a failure is an outcome like an answer.
    const answer = (async (): Promise<Outcome> => {
      try {
        const res = await this.fetch(ep + path, { ...init, signal: ctl.signal });
        return { kind: 'answer', status: res.status, text: await res.text() };
      } catch (err) {
        return { kind: 'error', err };
      }
    })();
    let wait = this.stallMs;
    try {
      for (;;) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const tick = new Promise<Outcome>((resolve) => (timer = setTimeout(() => resolve({ kind: 'tick' }), wait)));
        let o = await Promise.race([answer, tick]);
        clearTimeout(timer);
        if (o.kind === 'tick') {
          o = await Promise.race([answer, this.alive(ep).then((alive): Outcome => ({ kind: 'probe', alive }))]);
          if (o.kind === 'probe') {
            if (!o.alive && !signal.aborted) {
              ctl.abort();
              this.markSuspect(ep);
              throw new StallError(ep);
            }
            wait = Math.min(2 * wait, MAX_PROBE_INTERVAL_MS);
            continue;
          }
        }
        if (o.kind === 'answer') {
          this.suspects.delete(ep);
          return { status: o.status, text: o.text };
        }
        if (o.kind === 'error') throw o.err;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Whether ep answers its status within probeTimeoutMs. */
  private async alive(ep: string): Promise<boolean> {
    try {
      const res = await this.fetch(`${ep}/v1/status`, { signal: AbortSignal.timeout(this.probeTimeoutMs) });
      await res.text();
      return true;
    } catch {
      return false;
    }
  }

  /** Points the router at node id's endpoint if it knows it and that is not suspect; else no leader is known. */
  private follow(id: number): void {
    const ep = this.ids.get(id);
    this.leader = id !== 0 && ep !== undefined && !this.isSuspect(ep) ? ep : undefined;
  }

  /**
   * Sends a key-value request until a final answer: "ok" resolves,
   * "invalid" and "no-quorum" reject with the node's error, as does the
   * deadline. Other answers (not the leader, an election, a timeout) are
   * retried, following the leader they name.
   */
  async request(path: string, init: RequestInit, opts: RequestOptions): Promise<ReplyJSON> {
    const ctl = new AbortController();
    const deadline = setTimeout(() => ctl.abort(), opts.deadlineMs);
    const pending = opts.onPending ?? (() => {});
    const failed = new Set<string>();
    let discovered = opts.stale ?? false;
    let hopped = false;
    let backoff = 50;
    const pause = async () => {
      await sleep(backoff, ctl.signal);
      backoff = Math.min(2 * backoff, 500);
      failed.clear();
    };
    try {
      while (!ctl.signal.aborted) {
        if (!discovered && this.leaderEndpoint() === undefined) {
          discovered = true;
          await Promise.race([this.findLeader(), sleep(opts.deadlineMs, ctl.signal)]);
          continue;
        }
        const { ep, fresh } = this.pick(failed);
        if (!fresh && failed.size > 0) {
          await pause();
          continue;
        }
        let r: ReplyJSON;
        try {
          const { text } = await this.attempt(ep, path, init, ctl.signal);
          r = JSON.parse(text) as ReplyJSON;
        } catch (err) {
          if (ctl.signal.aborted) break;
          failed.add(ep);
          if (this.leader === ep) this.leader = undefined;
          pending(err instanceof StallError ? err.message : `${ep} unreachable`);
          continue;
        }
        switch (r.code) {
          case 'ok':
            if (r.leader) {
              const l = this.ids.get(r.leader);
              if (l !== undefined && !this.isSuspect(l)) this.leader = l;
            }
            return r;
          case 'no-quorum':
          case 'invalid':
            throw new Error(r.error || r.code);
          case 'not-leader':
          case 'pending':
          case 'timeout':
          case 'overloaded': {
            pending(r.code === 'not-leader' || r.code === 'pending' ? 'election in progress' : r.error || r.code);
            this.follow(r.leader);
            const next = this.leaderEndpoint();
            if (next !== undefined && next !== ep && !hopped) {
              hopped = true;
              continue;
            }
            break;
          }
          default:
            pending(r.error || r.code);
            failed.add(ep);
            if (this.leader === ep) this.leader = undefined;
        }
        await pause();
      }
      throw new Error('timed out');
    } finally {
      clearTimeout(deadline);
      ctl.abort(); // ends any pause still waiting
    }
  }
}
