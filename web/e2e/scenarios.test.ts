// The seed's chaos scenarios on the in-browser cluster, asserted on what
// the page shows: Network Partition, Rogue Node with and without PreVote,
// Slow Network, Restart All. Waits are polls on the page, never sleeps.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { Page } from 'playwright-core';

import { cardNumber, converged, dashboardSuite, eventCount, leader, roles, run, until } from './page.js';

const IDS = ['1', '2', '3'];

/** The dashboard in a fresh context; close() fails the test on uncaught page errors. */
const openPage = dashboardSuite();

/** A steady cluster: a leader with quorum, every log committed; returns the leader, its term and a follower. */
async function steady(page: Page): Promise<{ leader: string; term: number; follower: string }> {
  const l = await leader(page);
  await converged(page, 1);
  const follower = IDS.find((x) => x !== l)!;
  return { leader: l, term: await cardNumber(page, 'term', l), follower };
}

async function chaosState(page: Page, text: string): Promise<void> {
  await until(`the chaos state to show "${text}"`, async () =>
    ((await page.getByTestId('chaos-state').textContent()) ?? '').includes(text) ? true : undefined,
  );
}

/** Waits until node id has logged `times` more events containing text than it had (an election timeout each). */
async function timeouts(page: Page, id: string, text: string, from: number, times: number): Promise<void> {
  await until(`node ${id} to log ${times} × ${text}`, async () => ((await eventCount(page, id, text)) >= from + times ? true : undefined), 30_000);
}

describe('seed scenarios', () => {
  it('Network Partition 1 vs 2: the isolated follower stays frozen, the majority commits, Heal converges', async () => {
    const { page, close } = await openPage();
    const { leader: l, follower: f } = await steady(page);
    assert.match(await run(page, 'SET zone before'), /^✓ Committed/);
    const base = await converged(page, 2);

    await page.getByRole('button', { name: `Isolate ${f}` }).click();
    await chaosState(page, `isolated: node ${f}`);
    const frozenLog = await cardNumber(page, 'log', f);
    const frozenCommit = await cardNumber(page, 'commit', f);
    assert.equal(frozenCommit, base);
    for (const v of ['a', 'b']) assert.match(await run(page, `SET zone ${v}`), /^✓ Committed \(2\/3 acks\) @ index \d+$/);
    const majority = await until('the majority to commit both writes', async () => {
      const c = await cardNumber(page, 'commit', l);
      return c >= base + 2 ? c : undefined;
    });
    // The isolated node neither grew its log nor moved its commit index.
    assert.equal(await cardNumber(page, 'commit', f), frozenCommit);
    assert.equal(await cardNumber(page, 'log', f), frozenLog);
    assert.ok(majority > frozenCommit);

    await page.getByRole('button', { name: 'Heal' }).click();
    await chaosState(page, 'no partition');
    const n = await converged(page, majority);
    assert.ok(n >= majority);
    assert.equal(await run(page, 'GET zone'), '→ b');
    await close();
  });

  it('Rogue Node with PreVote: its term stays put while cut off, and Heal keeps the leader', async () => {
    const { page, close } = await openPage();
    await chaosState(page, 'PreVote on');
    const { leader: l, term, follower: rogue } = await steady(page);
    const seen = await eventCount(page, rogue, 'PreVoteStarted');
    const elections = await eventCount(page, rogue, 'ElectionStarted');

    await page.getByRole('button', { name: `Rogue Node ${rogue}` }).click();
    await chaosState(page, `rogue: node ${rogue}`);
    await timeouts(page, rogue, 'PreVoteStarted', seen, 3);
    assert.equal(await cardNumber(page, 'term', rogue), term, 'the rogue campaigned without raising its term');
    assert.equal(await eventCount(page, rogue, 'ElectionStarted'), elections, 'the rogue never started a real election');

    await page.getByRole('button', { name: 'Heal' }).click();
    await chaosState(page, 'no partition');
    await until(`node ${rogue} to follow again`, async () => ((await roles(page))[rogue] === 'follower' ? true : undefined));
    assert.match(await run(page, 'SET after rogue'), /^✓ Committed/);
    assert.equal(await leader(page), l, 'the leader is unchanged');
    for (const id of IDS) assert.equal(await cardNumber(page, 'term', id), term, `node ${id} is still in term ${term}`);
    await converged(page);
    await close();
  });

  it('Rogue Node without PreVote: its term climbs, and on Heal it deposes the leader', async () => {
    const { page, close } = await openPage();
    await leader(page);
    await page.getByLabel('PreVote').uncheck();
    await chaosState(page, 'PreVote off');
    const { term, follower: rogue } = await steady(page);
    const seen = await eventCount(page, rogue, 'ElectionStarted');

    await page.getByRole('button', { name: `Rogue Node ${rogue}` }).click();
    await chaosState(page, `rogue: node ${rogue}`);
    await timeouts(page, rogue, 'ElectionStarted', seen, 3);
    const rogueTerm = await until(`node ${rogue}'s term to climb past ${term + 2}`, async () => {
      const t = await cardNumber(page, 'term', rogue);
      return t >= term + 3 ? t : undefined;
    });

    await page.getByRole('button', { name: 'Heal' }).click();
    await chaosState(page, 'no partition');
    // The old leader hears the rogue's term and steps down; a leader is elected past that term.
    const newTerm = await until(
      `a leader elected in term ${rogueTerm} or later`,
      async () => {
        const t = await cardNumber(page, 'term', await leader(page));
        return t >= rogueTerm ? t : undefined;
      },
      60_000,
    );
    assert.ok(newTerm > term, `the cluster's term rose from ${term} to ${newTerm}`);
    // The disruption settles: one leader, every log committed, writes go through.
    await converged(page);
    await leader(page);
    assert.match(await run(page, 'SET after rogue'), /^✓ Committed/);
    await close();
  });

  it('Slow Network (500 ms): the leader stays and a SET still commits', async () => {
    const { page, close } = await openPage();
    const { leader: l, term } = await steady(page);

    await page.getByRole('button', { name: /Slow Network/ }).click();
    await chaosState(page, 'slow network 500 ms');
    for (const v of ['1', '2', '3']) {
      const t0 = Date.now();
      assert.match(await run(page, `SET slow ${v}`, 60_000), /^✓ Committed/);
      // A commit needs the leader's append and a follower's answer: 500 ms each way.
      assert.ok(Date.now() - t0 >= 1000, `SET slow ${v} committed in ${Date.now() - t0} ms, under the delay`);
    }
    assert.equal(await leader(page), l, 'the leader is unchanged');
    assert.equal(await cardNumber(page, 'term', l), term, 'no election happened');

    await page.getByRole('button', { name: /Slow Network/ }).click();
    await chaosState(page, 'network fast');
    assert.equal(await run(page, 'GET slow'), '→ 3');
    await close();
  });

  it('Restart All: every node recovers its log from IndexedDB, and a GET returns an earlier value', async () => {
    const { page, close } = await openPage();
    await steady(page);
    assert.match(await run(page, 'SET sensor 17'), /^✓ Committed/);
    assert.match(await run(page, 'SET other x'), /^✓ Committed/);
    const n = await converged(page, 3);

    await page.getByRole('button', { name: 'Restart All' }).click();
    // Each card's first status after the restart comes from the node's own database, before any election.
    const logs = await until('every node to report after the restart', async () => {
      const r = await roles(page);
      if (IDS.some((id) => r[id] === 'starting' || r[id] === 'offline')) return undefined;
      return Promise.all(IDS.map((id) => cardNumber(page, 'log', id)));
    });
    for (const [i, len] of logs.entries()) assert.ok(len >= n, `node ${IDS[i]} restored ${len} of ${n} entries`);
    await leader(page);
    assert.equal(await run(page, 'GET sensor'), '→ 17');
    await converged(page, n + 1);
    await close();
  });
});
