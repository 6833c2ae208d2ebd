// EndpointRouter: the dashboard's terminal routes around a frozen or slow
// node of a native cluster. A fake fetch stands in for the nodes; a frozen
// one holds every request until it is aborted, as a node stopped by
// SIGSTOP does. The tests count the requests each node got; their
// deadlines are far longer than the requests take.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { EndpointRouter } from '../app/remote/endpoints.js';
import type { ReplyJSON } from '../app/remote/protocol.js';

interface FakeNode {
  id: number;
  role: string;
  leader: number;
  /** The answer to a key-value request. */
  reply: () => { status: number; body: ReplyJSON };
  frozen?: boolean;
  delayMs?: number;
  /** Delays key-value answers only: a live node slow to commit. */
  kvDelayMs?: number;
  kv: { path: string; headers: Record<string, string> }[];
  statuses: number;
}

const ok = (leader: number) => () => ({
  status: 200,
  body: { code: 'ok', ok: true, index: 7, acks: 2, voters: 3, alive: 3, leader, found: true, value: 'v' },
});
const notLeader = (leader: number) => () => ({
  status: 503,
  body: { code: 'not-leader', ok: false, voters: 3, alive: 3, leader, found: false, error: 'not the leader' },
});

/** Nodes at http://n1.test, http://n2.test, ...; their fetch. */
function cluster(...nodes: Omit<FakeNode, 'kv' | 'statuses'>[]) {
  const byOrigin = new Map<string, FakeNode>();
  const all = nodes.map((n, i) => {
    const node: FakeNode = { ...n, kv: [], statuses: 0 };
    byOrigin.set(`http://n${i + 1}.test`, node);
    return node;
  });
  const fakeFetch = (async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input));
    const node = byOrigin.get(url.origin);
    if (node === undefined) throw new TypeError('fetch failed');
    if (url.pathname === '/v1/status') node.statuses++;
    else node.kv.push({ path: url.pathname + url.search, headers: { ...(init?.headers as Record<string, string> | undefined) } });
    const signal = init?.signal ?? undefined;
    const held = new Promise<void>((resolve, reject) => {
      signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
      const kv = url.pathname !== '/v1/status';
      if (!node.frozen) setTimeout(resolve, (node.delayMs ?? 0) + (kv ? (node.kvDelayMs ?? 0) : 0));
    });
    await held;
    if (url.pathname === '/v1/status') return new Response(JSON.stringify({ id: node.id, role: node.role, leader: node.leader }));
    const { status, body } = node.reply();
    return new Response(JSON.stringify(body), { status });
  }) as typeof globalThis.fetch;
  return { nodes: all, endpoints: all.map((_, i) => `http://n${i + 1}.test`), fetch: fakeFetch };
}

/** A router with short timeouts that keeps a stalled endpoint suspect for longer than any test runs. */
function router(c: ReturnType<typeof cluster>) {
  return new EndpointRouter(c.endpoints, { fetch: c.fetch, probeTimeoutMs: 50, stallMs: 50, suspectMs: 3_600_000 });
}

const DEADLINE = { deadlineMs: 5000 };

function triedOnce(node: FakeNode, name: string) {
  assert.ok(node.kv.length <= 1 && node.statuses <= 1, `${name} got ${node.kv.length} key-value requests and ${node.statuses} status probes, want at most 1 of each`);
}

describe('EndpointRouter', () => {
  it('routes around a frozen follower, trying it at most once', async () => {
    const c = cluster(
      { id: 2, role: 'follower', leader: 1, reply: ok(1), frozen: true },
      { id: 1, role: 'leader', leader: 1, reply: ok(1) },
      { id: 3, role: 'follower', leader: 1, reply: notLeader(1) },
    );
    const r = router(c);
    for (let i = 0; i < 6; i++) {
      const rep = await r.request('/v1/kv/k', i % 2 === 0 ? { method: 'PUT', body: 'v' } : {}, DEADLINE);
      assert.equal(rep.code, 'ok');
    }
    triedOnce(c.nodes[0]!, 'the frozen follower');
    assert.equal(c.nodes[2]!.kv.length, 0, 'requests went to a follower, not the leader');
  });

  it('abandons a frozen leader and sends the write elsewhere with the same session', async () => {
    const c = cluster(
      { id: 1, role: 'leader', leader: 1, reply: ok(1), frozen: true },
      { id: 2, role: 'follower', leader: 3, reply: notLeader(3) },
      { id: 3, role: 'leader', leader: 3, reply: ok(3) },
    );
    const r = router(c);
    // The status stream said node 1 leads, before it froze.
    r.noteStatus('http://n1.test', { id: 1, role: 'leader', leader: 1 });
    const headers = { 'X-Wraft-Client': '77', 'X-Wraft-Seq': '1' };
    for (let i = 0; i < 4; i++) {
      const rep = await r.request(`/v1/kv/k${i}`, { method: 'PUT', headers, body: 'v' }, DEADLINE);
      assert.equal(rep.leader, 3);
    }
    triedOnce(c.nodes[0]!, 'the frozen leader');
    const tries = c.nodes.flatMap((n) => n.kv.filter((k) => k.path === '/v1/kv/k0'));
    assert.ok(tries.length >= 2, 'the write went to the frozen leader and then elsewhere');
    for (const t of tries) assert.deepEqual(t.headers, headers);
  });

  it('tries the first endpoint given first when no leader is known', async () => {
    for (const stale of [true, false]) {
      const c = cluster({ id: 1, role: 'follower', leader: 0, reply: ok(0) }, { id: 2, role: 'follower', leader: 0, reply: ok(0) });
      await router(c).request('/v1/kv/k', {}, { ...DEADLINE, stale });
      assert.deepEqual(
        c.nodes.map((n) => n.kv.length),
        [1, 0],
        `stale ${stale}`,
      );
    }
  });

  it('passes over a frozen first endpoint while no leader is known', async () => {
    const c = cluster(
      { id: 1, role: 'follower', leader: 0, reply: ok(0), frozen: true },
      { id: 2, role: 'follower', leader: 0, reply: ok(0) },
      { id: 3, role: 'follower', leader: 0, reply: ok(0) },
    );
    const r = router(c);
    for (let i = 0; i < 6; i++) assert.equal((await r.request('/v1/kv/k', {}, { ...DEADLINE, stale: i % 2 === 0 })).code, 'ok');
    triedOnce(c.nodes[0]!, 'the frozen node');
  });

  it('does not send operations to a slow follower', async () => {
    const c = cluster(
      { id: 1, role: 'leader', leader: 1, reply: ok(1) },
      { id: 2, role: 'follower', leader: 1, reply: ok(1), delayMs: 1000 },
      { id: 3, role: 'follower', leader: 1, reply: notLeader(1) },
    );
    const r = router(c);
    for (let i = 0; i < 6; i++) assert.equal((await r.request('/v1/kv/k', { method: 'PUT', body: 'v' }, DEADLINE)).code, 'ok');
    assert.equal(c.nodes[1]!.kv.length, 0);
    assert.ok(c.nodes[1]!.statuses <= 1);
  });

  it('waits for a live leader that is slow to commit, sending the write once', async () => {
    const c = cluster({ id: 1, role: 'leader', leader: 1, reply: ok(1), kvDelayMs: 300 }, { id: 2, role: 'follower', leader: 1, reply: ok(1) });
    const r = new EndpointRouter(c.endpoints, { fetch: c.fetch, probeTimeoutMs: 5000, stallMs: 10, suspectMs: 3_600_000 });
    assert.equal((await r.request('/v1/kv/k', { method: 'PUT', body: 'v' }, DEADLINE)).code, 'ok');
    assert.deepEqual(
      c.nodes.map((n) => n.kv.length),
      [1, 0],
    );
    assert.ok(c.nodes[0]!.statuses >= 2, 'the leader was probed while the write waited');
  });

  it('ends with an error at the deadline when every node is down', async () => {
    const r = new EndpointRouter(['http://down1.test', 'http://down2.test'], { fetch: cluster().fetch, probeTimeoutMs: 50, stallMs: 50 });
    await assert.rejects(r.request('/v1/kv/k', {}, { deadlineMs: 200 }), /timed out/);
  });
});
