// The dashboard in Debian's Chromium: three raft.wasm nodes in workers,
// BroadcastChannel between them, IndexedDB under each. Every assertion is
// about what the page shows, polled with generous timeouts.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { dashboardSuite, leader, logLength, roles, run, until } from './page.js';

/** The dashboard in a fresh context; close() fails the test on uncaught page errors. */
const openPage = dashboardSuite();

describe('dashboard', () => {
  it('elects a leader, commits a SET and GETs it back', async () => {
    const { close, page } = await openPage();
    const id = await leader(page);
    assert.match(id, /^[123]$/);
    assert.match((await page.getByTestId(`role-${id}`).textContent()) ?? '', /LEADER/);
    assert.match(await run(page, 'SET temperature 72.5'), /^✓ Committed \([23]\/3 acks\) @ index \d+$/);
    assert.equal(await run(page, 'GET temperature'), '→ 72.5');
    assert.match(await run(page, 'DEL temperature'), /^✓ Committed/);
    assert.equal(await run(page, 'GET temperature'), '→ (not found)');
    assert.notEqual(await page.getByTestId('events').locator('li').count(), 0);
    await close();
  });

  it('elects a different leader after Kill Leader, and commits', async () => {
    const { close, page } = await openPage();
    const old = await leader(page);
    await page.getByRole('button', { name: 'Kill Leader' }).click();
    await until('the old leader offline', async () => ((await roles(page))[old] === 'offline' ? true : undefined));
    const next = await leader(page, old);
    assert.notEqual(next, old);
    assert.match(await run(page, 'SET pressure 14.7'), /^✓ Committed( \(2\/3 acks\))? @ index \d+$/);
    await close();
  });

  it('fails a write without quorum, then recovers', async () => {
    const { close, page } = await openPage();
    const first = await leader(page);
    const others = ['1', '2', '3'].filter((x) => x !== first);
    await page.getByRole('button', { name: `Kill Node ${others[0]}` }).click();
    await page.getByRole('button', { name: `Kill Node ${others[1]}` }).click();
    await until('NO QUORUM', async () => ((await page.getByTestId('quorum').textContent()) === 'NO QUORUM ✗' ? true : undefined));
    assert.equal(await run(page, 'SET lonely 1', 60_000), '✗ Failed: no quorum (only 1/3 alive)');
    await page.getByRole('button', { name: `Restart Node ${others[0]}` }).click();
    await leader(page);
    assert.match(await run(page, 'SET lonely 2'), /^✓ Committed/);
    await close();
  });

  it('restarts a killed node that recovers its log and catches up', async () => {
    const { close, page } = await openPage();
    const l = await leader(page);
    const victim = ['1', '2', '3'].find((x) => x !== l)!;
    assert.match(await run(page, 'SET a 1'), /^✓/);
    await until('the victim to hold the entry', async () => ((await logLength(page, victim)) >= (await logLength(page, l)) ? true : undefined));
    const had = await logLength(page, victim);
    await page.getByRole('button', { name: `Kill Node ${victim}` }).click();
    await until('the victim offline', async () => ((await roles(page))[victim] === 'offline' ? true : undefined));
    for (const v of ['2', '3', '4']) assert.match(await run(page, `SET a ${v}`), /^✓ Committed( \(2\/3 acks\))? @ index \d+$/);
    const target = await logLength(page, l);
    assert.ok(target >= had + 3);
    await page.getByRole('button', { name: `Restart Node ${victim}` }).click();
    await until(`node ${victim} to catch up to ${target}`, async () => {
      const n = await logLength(page, victim);
      return n >= target && (await roles(page))[victim] === 'follower' ? n : undefined;
    });
    assert.equal(await run(page, 'GET a'), '→ 4');
    await close();
  });

  it('recovers the whole cluster from IndexedDB after a page reload', async () => {
    const { close, page } = await openPage();
    await leader(page);
    assert.match(await run(page, 'SET durable yes-indeed'), /^✓/);
    const before = await logLength(page, (await leader(page)));
    await page.reload();
    const l = await leader(page);
    await until('the log restored', async () => ((await logLength(page, l)) >= before ? true : undefined));
    assert.equal(await run(page, 'GET durable'), '→ yes-indeed');
    // Reset clears every database.
    await page.getByRole('button', { name: 'Reset' }).click();
    await leader(page);
    assert.equal(await run(page, 'GET durable'), '→ (not found)');
    await close();
  });

  it('fits a phone (390×844): no horizontal overflow, every control reachable', async () => {
    const { close, page } = await openPage({ width: 390, height: 844 });
    await leader(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.equal(overflow, 0, 'the page scrolls horizontally');
    const controls = page.locator('button, input');
    const n = await controls.count();
    assert.ok(n >= 15, `only ${n} controls`);
    for (let i = 0; i < n; i++) {
      const c = controls.nth(i);
      await c.scrollIntoViewIfNeeded();
      const box = await c.boundingBox();
      assert.ok(box, `control ${i} has no box`);
      assert.ok(box.x >= 0 && box.x + box.width <= 390 + 0.5, `control ${i} (${await c.textContent()}) sticks out: ${JSON.stringify(box)}`);
      assert.ok(box.height >= 20, `control ${i} too small to tap`);
    }
    assert.match(await run(page, 'SET phone ok'), /^✓/);
    await close();
  });
});
