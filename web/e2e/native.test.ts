// "Connect to a cluster" against a real native cluster: three `bin/wraft
// node` processes (native core, admin token "test") on free ports; the
// dashboard connects to their APIs, shows the leader, commits through the
// key-value API and crashes the leader through the admin API.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import type { Browser } from 'playwright-core';

import { cardNumber, converged, launch, leader, open, roles, run, until } from './page.js';
import { serve, type StaticServer } from './server.js';

const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const WRAFT = process.env['WRAFT_BIN'] ?? resolve(webDir, '..', 'bin', 'wraft');
const missing = existsSync(WRAFT) ? false : `${WRAFT} is missing: run \`make build\` at the repository root`;

/** A port the system just handed out (listen on port 0, then close). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

let server: StaticServer;
let browser: Browser;
let data: string;
const procs: ChildProcess[] = [];
const apis: number[] = [];

before(async () => {
  if (missing) return;
  server = await serve(resolve(webDir, 'dist-app'));
  browser = await launch();
  data = mkdtempSync(join(tmpdir(), 'wraft-e2e-'));
  const peers: number[] = [];
  for (let i = 0; i < 3; i++) {
    peers.push(await freePort());
    apis.push(await freePort());
  }
  const peerList = peers.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(',');
  for (let i = 0; i < 3; i++) {
    const args = ['node', '--id', String(i + 1), '--peers', peerList, '--data', join(data, `n${i + 1}`), '--api', `127.0.0.1:${apis[i]}`];
    args.push('--admin-token', 'test', '--cors-origin', new URL(server.url).origin, '--core', 'native', '--unsafe-no-fsync', '--log-level', 'warn');
    const p = spawn(WRAFT, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    p.stderr?.on('data', () => {}); // drained; a node's log is not the test's
    procs.push(p);
  }
  for (const port of apis) {
    await until(`the API on port ${port}`, async () => ((await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok ? true : undefined));
  }
});

after(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await browser?.close();
  await server?.close();
  if (data) rmSync(data, { recursive: true, force: true });
});

describe('connect to a native cluster', () => {
  it('shows the native nodes, commits through the leader and crashes it through the admin API', { skip: missing }, async () => {
    const { page, close } = await open(browser, server.url);
    await page.getByRole('button', { name: 'Connect to a cluster' }).click();
    await page.getByLabel('API endpoints').fill(`http://127.0.0.1:${apis[0]},${apis[1]},${apis[2]}`);
    await page.getByLabel('Admin token').fill('test');
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await until('the native mode', async () => ((await page.getByTestId('mode').textContent())?.startsWith('Native cluster') ? true : undefined));
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'wraft · native cluster ×3');

    const l = await leader(page);
    assert.match(await run(page, 'SET temperature 72.5'), /^✓ Committed \([23]\/3 acks\) @ index \d+$/);
    assert.equal(await run(page, 'GET temperature'), '→ 72.5');
    assert.match(await run(page, 'DEL temperature'), /^✓ Committed/);
    assert.equal(await run(page, 'GET temperature'), '→ (not found)');
    assert.ok((await page.getByTestId('events').locator('li').allTextContents()).some((t) => t.includes('Elected')));

    // Isolate a follower (POST /v1/admin/faults on every node): the majority commits without it; Heal converges.
    const f = ['1', '2', '3'].find((x) => x !== l)!;
    const base = await converged(page, 1);
    await page.getByRole('button', { name: `Isolate ${f}` }).click();
    assert.match(await run(page, 'SET zone a'), /^✓ Committed \(2\/3 acks\) @ index \d+$/);
    assert.equal(await cardNumber(page, 'commit', f), base);
    await page.getByRole('button', { name: 'Heal' }).click();
    await converged(page, base + 1);
    assert.equal(await leader(page), l);

    // Kill Leader = POST /v1/admin/crash: the process exits, its card goes red, another node leads.
    await page.getByRole('button', { name: 'Kill Leader' }).click();
    await until(`node ${l} offline`, async () => ((await roles(page))[l] === 'offline' ? true : undefined));
    const next = await leader(page, l);
    assert.notEqual(next, l);
    assert.match(await run(page, 'SET pressure 14.7'), /^✓ Committed( \(2\/3 acks\))? @ index \d+$/);

    // Back to the in-browser cluster, which is still there.
    await page.getByRole('button', { name: 'Back to the in-browser cluster' }).click();
    await leader(page);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'wraft · raft.wasm ×3');
    await close();
  });
});
