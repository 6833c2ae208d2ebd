// Membership changes and snapshots on the in-browser cluster, asserted on
// what the page shows: Add node twice (each joins as a learner, catches
// up, is promoted), writes with five voters, Remove, a reload that keeps
// the grown cluster, Reset back to three; a node killed while the others
// write past SnapshotEntries (50 in the browser) catches up by snapshot.
// Waits are bounded polls on the page, never sleeps.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { Page } from 'playwright-core';

import { cardNumber, dashboardSuite, eventCount, leader, logLength, membership, roles, run, snapshotIndex, until } from './page.js';

/** The dashboard in a fresh context; close() fails the test on uncaught page errors. */
const openPage = dashboardSuite();

/** Waits for the voters badge to read text (e.g. "5/5 VOTERS · MAJORITY 3"). */
async function votersBadge(page: Page, text: string, timeout = 30_000): Promise<void> {
  await until(`the voters badge to show ${text}`, async () => ((await page.getByTestId('voters').textContent()) === text ? true : undefined), timeout);
}

/** Clicks Add node and waits until node id's card shows it a voter. */
async function addNode(page: Page, id: string): Promise<void> {
  await leader(page);
  await page.getByRole('button', { name: 'Add node' }).click();
  await until(`node ${id}'s card`, async () => ((await page.getByTestId(`node-${id}`).count()) === 1 ? true : undefined));
  await until(`node ${id} to be promoted to voter`, async () => ((await membership(page, id)) === 'voter' ? true : undefined), 90_000);
}

/** Runs count SETs one after another through the page's terminal (its controller, as the Run button does). */
async function writeMany(page: Page, count: number): Promise<void> {
  const failed = await page.evaluate(async (n) => {
    const w = (globalThis as unknown as { wraft: { exec(line: string): Promise<void>; store: { terminal: { value: { output: string }[] } } } }).wraft;
    for (let i = 0; i < n; i++) {
      await w.exec(`SET k${i % 10} v${i}`);
      const out = w.store.terminal.value.at(-1)?.output ?? '';
      if (!out.startsWith('✓')) return `SET k${i % 10} v${i}: ${out}`;
    }
    return '';
  }, count);
  assert.equal(failed, '');
}

describe('membership and snapshots', () => {
  it('adds a fourth and a fifth node as voters, removes one, and keeps the grown cluster across a reload', async () => {
    const { close, page } = await openPage();
    await leader(page);
    await votersBadge(page, '3/3 VOTERS · MAJORITY 2');
    assert.match(await run(page, 'SET grow 1'), /^✓ Committed \([23]\/3 acks\)/);

    await addNode(page, '4');
    await votersBadge(page, '4/4 VOTERS · MAJORITY 3');
    await addNode(page, '5');
    await votersBadge(page, '5/5 VOTERS · MAJORITY 3');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'wraft · raft.wasm ×5');
    for (const id of ['1', '2', '3', '4', '5']) assert.equal(await membership(page, id), 'voter', `node ${id}`);
    assert.ok((await eventCount(page, '4', 'added as a learner')) >= 1);
    assert.ok((await eventCount(page, '5', 'promoted to voter')) >= 1);
    assert.ok((await page.getByTestId('events').locator('li', { hasText: 'MembershipChanged' }).count()) >= 1);

    // Writes from the terminal commit with five voters.
    assert.match(await run(page, 'SET grown five'), /^✓ Committed( \([345]\/5 acks\))? @ index \d+$/);
    await until('node 5 to apply it', async () => ((await cardNumber(page, 'commit', '5')) >= (await cardNumber(page, 'commit', await leader(page))) ? true : undefined));

    // Remove a follower: its card shows removed, the badge counts four voters.
    const l = await leader(page);
    const victim = ['4', '5', '3'].find((x) => x !== l)!;
    await page.getByRole('button', { name: `Remove Node ${victim}` }).click();
    await until(`node ${victim} removed`, async () => ((await roles(page))[victim] === 'removed' ? true : undefined), 60_000);
    assert.equal(await membership(page, victim), 'removed');
    await votersBadge(page, '4/4 VOTERS · MAJORITY 3');
    assert.equal(await page.getByRole('button', { name: `Remove Node ${victim}` }).count(), 0);
    assert.match(await run(page, 'SET shrunk yes'), /^✓ Committed( \([34]\/4 acks\))? @ index \d+$/);
    assert.equal(await run(page, 'GET grow'), '→ 1');

    // A reload restarts the grown cluster from its databases: four voters, the removed card still removed.
    await page.reload();
    await leader(page);
    await votersBadge(page, '4/4 VOTERS · MAJORITY 3');
    assert.equal((await roles(page))[victim], 'removed');
    assert.equal(await run(page, 'GET shrunk'), '→ yes');
    assert.equal(await run(page, 'GET grown'), '→ five');

    // Reset goes back to three nodes.
    await page.getByRole('button', { name: 'Reset' }).click();
    await until('three cards again', async () => (Object.keys(await roles(page)).length === 3 ? true : undefined));
    await leader(page);
    await votersBadge(page, '3/3 VOTERS · MAJORITY 2');
    assert.equal(await run(page, 'GET grown'), '→ (not found)');
    await close();
  });

  it('removes the leader: it steps down and the others elect a leader and commit', async () => {
    const { close, page } = await openPage();
    await addNode(page, '4');
    const old = await leader(page);
    await page.getByRole('button', { name: `Remove Node ${old}` }).click();
    await until(`node ${old} removed`, async () => ((await roles(page))[old] === 'removed' ? true : undefined), 60_000);
    const next = await leader(page, old);
    assert.notEqual(next, old);
    await votersBadge(page, '3/3 VOTERS · MAJORITY 2');
    assert.match(await run(page, 'SET after-remove ok'), /^✓ Committed/);
    await close();
  });

  it('catches a node restarted after the log was compacted past it up by snapshot', async () => {
    const { close, page } = await openPage();
    const l = await leader(page);
    const victim = ['1', '2', '3'].find((x) => x !== l)!;
    assert.match(await run(page, 'SET start 0'), /^✓/);
    await until('the victim to hold the entry', async () => ((await logLength(page, victim)) >= (await logLength(page, l)) ? true : undefined));
    const had = await logLength(page, victim);
    await page.getByRole('button', { name: `Kill Node ${victim}` }).click();
    await until('the victim offline', async () => ((await roles(page))[victim] === 'offline' ? true : undefined));

    // Past the leader's first snapshot: a leader snapshots at four times
    // SnapshotEntries (50), at a phase of 40 entries per id, so by entry 120.
    await writeMany(page, 130);
    const live = await leader(page);
    const snap = await until('the leader to snapshot past the victim', async () => {
      const s = await snapshotIndex(page, live);
      return s > had ? s : undefined;
    });
    assert.ok((await cardNumber(page, 'first', live)) > had + 1, 'the leader compacted its log');
    await until('the compacted block in the log view', async () => ((await page.getByTestId(`snapblock-${live}`).count()) === 1 ? true : undefined));
    assert.ok((await eventCount(page, live, 'LogCompacted')) >= 1);

    await page.getByRole('button', { name: `Restart Node ${victim}` }).click();
    await until(`node ${victim} to install a snapshot`, async () => ((await eventCount(page, victim, 'SnapshotInstalled')) >= 1 ? true : undefined), 60_000);
    await until(`node ${victim} to show a snapshot index of at least ${snap}`, async () => ((await snapshotIndex(page, victim)) >= snap ? true : undefined));
    await until(`node ${victim} to catch up`, async () =>
      (await cardNumber(page, 'commit', victim)) >= (await cardNumber(page, 'commit', await leader(page))) && (await roles(page))[victim] === 'follower'
        ? true
        : undefined,
    );
    assert.equal(await page.getByTestId(`snapblock-${victim}`).count(), 1);
    assert.equal(await run(page, 'GET k9'), '→ v129');
    assert.equal(await run(page, 'GET start'), '→ 0');
    await close();
  });
});
