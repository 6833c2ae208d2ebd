// A web page on another origin cannot change a native cluster: three
// `bin/wraft node` processes (native core, admin token "test") that let in
// the dashboard's origin only (--cors-origin). A page served from a second
// static server, on another port, tries what any page a user visits could:
// fetches with and without the token, an HTML form post (which CORS does
// not stop), a WebSocket. Every one fails, and the cluster is unchanged.
// The dashboard's own origin still reads the API, and changes it only
// with the token.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import type { Browser, Page } from 'playwright-core';

import { launch, until } from './page.js';
import { serve, type StaticServer } from './server.js';

const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const WRAFT = process.env['WRAFT_BIN'] ?? resolve(webDir, '..', 'bin', 'wraft');
const missing = existsSync(WRAFT) ? false : `${WRAFT} is missing: run \`make build\` at the repository root`;
const TOKEN = 'test';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

let dashboard: StaticServer;
let elsewhere: StaticServer;
let browser: Browser;
let data: string;
const procs: ChildProcess[] = [];
const apis: string[] = [];

/**
 * What the cluster looks like from outside any browser: its members and a key. (Not the terms:
 * a loaded machine may hold an election of its own; a fault set by the page shows in the write
 * that follows instead.)
 */
async function snapshot(): Promise<string> {
  const members = (await (await fetch(`${apis[0]}/v1/members`)).json()) as { members: { id: number; role: string }[] };
  const key = await fetch(`${apis[0]}/v1/kv/evil?consistency=stale`);
  return JSON.stringify({ members: members.members.map((m) => `${m.id}:${m.role}`), evil: key.status });
}

/** Runs f in page and returns what it resolved to, or "failed: ..." for an exception. */
async function attempt(page: Page, f: string): Promise<string> {
  return page.evaluate(`(async () => { try { return String(await (${f})()); } catch (e) { return 'failed: ' + e; } })()`);
}

before(async () => {
  if (missing) return;
  dashboard = await serve(resolve(webDir, 'dist-app'));
  const other = mkdtempSync(join(tmpdir(), 'wraft-elsewhere-'));
  writeFileSync(join(other, 'index.html'), '<!doctype html><title>another site</title><p>elsewhere</p>');
  elsewhere = await serve(other);
  browser = await launch();
  data = mkdtempSync(join(tmpdir(), 'wraft-e2e-cors-'));
  const peers: number[] = [];
  const ports: number[] = [];
  for (let i = 0; i < 3; i++) {
    peers.push(await freePort());
    ports.push(await freePort());
  }
  const peerList = peers.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(',');
  const apiList = ports.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(',');
  for (let i = 0; i < 3; i++) {
    const args = ['node', '--id', String(i + 1), '--peers', peerList, '--peer-apis', apiList, '--data', join(data, `n${i + 1}`)];
    args.push('--api', `127.0.0.1:${ports[i]}`, '--admin-token', TOKEN, '--cors-origin', new URL(dashboard.url).origin);
    args.push('--core', 'native', '--unsafe-no-fsync', '--log-level', 'warn');
    const p = spawn(WRAFT, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    p.stderr?.on('data', () => {});
    procs.push(p);
    apis.push(`http://127.0.0.1:${ports[i]}`);
  }
  await until(
    'a leader',
    async () => {
      for (const api of apis) {
        const s = (await (await fetch(`${api}/v1/status`)).json()) as { role: string };
        if (s.role === 'leader') return true;
      }
      return undefined;
    },
    30_000,
  );
});

after(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await browser?.close();
  await dashboard?.close();
  await elsewhere?.close();
  if (data) rmSync(data, { recursive: true, force: true });
});

describe('a page on another origin', () => {
  it('cannot add a member, set faults, write or listen, even knowing the token', { skip: missing }, async () => {
    const before = await snapshot();
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(elsewhere.url);
    const member = JSON.stringify(JSON.stringify({ id: 9, raft: '127.0.0.1:1', learner: true }));
    for (const api of apis) {
      // A "simple" request: no preflight, so the browser sends it; the node refuses it (403), and the page cannot read the answer.
      assert.match(await attempt(page, `() => fetch('${api}/v1/members', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: ${member} }).then((r) => r.status)`), /^failed: TypeError/);
      // With the token: the preflight is refused, so the request is never sent.
      assert.match(
        await attempt(page, `() => fetch('${api}/v1/members', { method: 'POST', headers: { Authorization: 'Bearer ${TOKEN}', 'Content-Type': 'application/json' }, body: ${member} }).then((r) => r.status)`),
        /^failed: TypeError/,
      );
      assert.match(
        await attempt(page, `() => fetch('${api}/v1/admin/faults', { method: 'POST', headers: { Authorization: 'Bearer ${TOKEN}' }, body: '{"blocked":[1,2,3]}' }).then((r) => r.status)`),
        /^failed: TypeError/,
      );
      assert.match(await attempt(page, `() => fetch('${api}/v1/kv/evil', { method: 'PUT', body: 'x' }).then((r) => r.status)`), /^failed: TypeError/);
      assert.match(await attempt(page, `() => fetch('${api}/v1/status').then((r) => r.status)`), /^failed: TypeError/);
      // A WebSocket is not subject to CORS; the node checks its Origin.
      assert.equal(
        await attempt(page, `() => new Promise((ok) => { const ws = new WebSocket('${api.replace('http', 'ws')}/v1/events'); ws.onopen = () => ok('open'); ws.onerror = () => ok('refused'); })`),
        'refused',
      );
    }
    // An HTML form post is not subject to CORS either: the browser navigates and sends it.
    for (const [path, body] of [
      ['/v1/members', '{"id":9,"raft":"127.0.0.1:1","learner":true}'],
      ['/v1/admin/faults', '{"blocked":[1,2,3]}'],
    ] as const) {
      const form = await ctx.newPage();
      await form.goto(elsewhere.url);
      await form.evaluate(
        ([action, value]) => {
          const f = document.createElement('form');
          f.method = 'POST';
          f.action = action;
          f.enctype = 'text/plain';
          const input = document.createElement('input');
          input.name = value.slice(0, -2);
          input.value = value.slice(-2);
          f.append(input);
          document.body.append(f);
          f.submit();
        },
        [`${apis[0]!}${path}`, body] as const,
      );
      // The browser shows the node's answer: the refusal.
      const shown = await until(`the answer to the form post to ${path}`, async () =>
        form.url().endsWith(path) ? ((await form.textContent('body').catch(() => null)) ?? undefined) : undefined,
      );
      assert.match(shown, /"code": "forbidden"/, `form post to ${path}`);
      await form.close();
    }
    await ctx.close();
    assert.equal(await snapshot(), before, 'the cluster changed');
    // Nothing blocked on any node: a write commits (through whichever node leads by then).
    await until(
      'a write after the attempts',
      async () => {
        for (const api of apis) {
          const w = await fetch(`${api}/v1/kv/after`, { method: 'PUT', body: '1' }).catch(() => undefined);
          if (w?.status === 200) return true;
        }
        return undefined;
      },
      15_000,
    );
  });

  it("the dashboard's own origin reads the API, and changes it only with the token", { skip: missing }, async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(dashboard.url);
    assert.equal(await attempt(page, `() => fetch('${apis[0]}/v1/status').then((r) => r.status)`), '200');
    assert.equal(await attempt(page, `() => fetch('${apis[0]}/v1/admin/heal', { method: 'POST', headers: { 'Content-Type': 'application/json' } }).then((r) => r.status)`), '401');
    assert.equal(
      await attempt(page, `() => fetch('${apis[0]}/v1/admin/heal', { method: 'POST', headers: { Authorization: 'Bearer ${TOKEN}', 'Content-Type': 'application/json' } }).then((r) => r.status)`),
      '200',
    );
    assert.equal(
      await attempt(page, `() => new Promise((ok) => { const ws = new WebSocket('${apis[0]!.replace('http', 'ws')}/v1/events'); ws.onopen = () => { ws.close(); ok('open'); }; ws.onerror = () => ok('refused'); })`),
      'open',
    );
    await ctx.close();
  });
});
