// Messages in flight and the leader's replication progress, as the
// dashboard draws them: vote traffic after Kill Leader, each follower's
// match/next converging on the leader's log, dots at a phone's width.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { Page } from 'playwright-core';

import { dashboardSuite, leader, logLength, roles, run, until } from './page.js';

/** The dashboard in a fresh context; close() fails the test on uncaught page errors. */
const openPage = dashboardSuite();

/** Vote and PreVote messages sent since the page loaded, as the legend counts them. */
const votes = async (page: Page) => Number(await page.getByTestId('traffic').getAttribute('data-votes'));
const count = async (page: Page, type: string) => Number(await page.getByTestId(`msg-${type}`).getAttribute('data-count'));

describe('messages and progress', () => {
  it('counts and draws vote traffic after Kill Leader, and a new leader appears', async () => {
    const { close, page } = await openPage();
    const old = await leader(page);
    await until('heartbeats counted', async () => ((await count(page, 'Heartbeat')) > 0 ? true : undefined));
    const before = await votes(page);
    await page.getByRole('button', { name: 'Kill Leader' }).click();
    await until('the old leader offline', async () => ((await roles(page))[old] === 'offline' ? true : undefined));
    // Vote traffic shows while the election runs: counted, and drawn as dots.
    const seen = new Set<string>();
    await until('a vote or pre-vote dot on screen', async () => {
      for (const t of await page.getByTestId('traffic-layer').locator('.dot').evaluateAll((ds) => ds.map((d) => d.getAttribute('data-type') ?? ''))) seen.add(t);
      return ['Vote', 'PreVote', 'VoteResp', 'PreVoteResp'].some((t) => seen.has(t)) ? true : undefined;
    }, 10_000);
    const next = await leader(page, old);
    assert.notEqual(next, old);
    assert.ok((await votes(page)) > before, `vote messages ${before} -> ${await votes(page)}`);
    // Only the survivors speak: two nodes at most ask each other.
    assert.ok((await count(page, 'VoteResp')) + (await count(page, 'PreVoteResp')) > 0);
    await close();
  });

  it("shows each follower's match and next converging to the leader's last index", async () => {
    const { close, page } = await openPage();
    const l = await leader(page);
    for (const v of ['1', '2', '3']) assert.match(await run(page, `SET k${v} ${v}`), /^✓ Committed/);
    const last = await logLength(page, l);
    const followers = ['1', '2', '3'].filter((x) => x !== l);
    assert.equal(await page.getByTestId(`progress-${l}`).getAttribute('data-last'), String(await logLength(page, l)));
    for (const f of followers) {
      const row = page.getByTestId(`progress-${f}`);
      await until(`node ${f}'s match to reach ${last}`, async () => {
        const match = Number(await row.getAttribute('data-match'));
        const next = Number(await row.getAttribute('data-next'));
        return match >= last && next === match + 1 ? true : undefined;
      });
      assert.equal(await row.getAttribute('data-state'), 'replicate');
      assert.match((await row.textContent()) ?? '', /^match \d+ · next \d+ · replicate/);
    }
    await close();
  });

  it('draws the dots at a phone width (390×844) without horizontal overflow', async () => {
    const { close, page } = await openPage({ width: 390, height: 844 });
    await leader(page);
    await page.getByRole('button', { name: /Slow Network/ }).click();
    assert.match(await run(page, 'SET slow 1'), /^✓ Committed/);
    const boxes = await until('dots on screen', async () => {
      const b = await page.getByTestId('traffic-layer').locator('.dot').evaluateAll((ds) => ds.map((d) => d.getBoundingClientRect().toJSON() as { x: number; width: number }));
      return b.length > 0 ? b : undefined;
    });
    for (const b of boxes) assert.ok(b.x >= 0 && b.x + b.width <= 390 + 0.5, `a dot sticks out: ${JSON.stringify(b)}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.equal(overflow, 0, 'the page scrolls horizontally');
    await close();
  });
});
