// Driving the dashboard: launching Debian's Chromium, reading what the
// page shows, polling until it shows what a test expects.

import assert from 'node:assert/strict';
import { dirname, resolve } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

import { serve, type StaticServer } from './server.js';

export const CHROMIUM = process.env['CHROMIUM'] ?? '/usr/bin/chromium';

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
}

/** Calls f until it returns a value other than undefined, or fails after timeout ms naming what it waited for. */
export async function until<T>(what: string, f: () => Promise<T | undefined>, timeout = 20_000): Promise<T> {
  const end = Date.now() + timeout;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The roles the node cards show, by node id (every card: 4 and 5 too once added; "removed" for a removed node). */
export async function roles(page: Page): Promise<Record<string, string>> {
  const cards = await page.locator('article[data-testid^="node-"]').evaluateAll((els) =>
    els.map((e) => [e.getAttribute('data-testid')!.slice('node-'.length), e.getAttribute('data-role') ?? ''] as const),
  );
  return Object.fromEntries(cards);
}

/** What node id's card says it is: "voter", "learner", "removed" or "unknown" (not a member yet). */
export async function membership(page: Page, id: string): Promise<string> {
  return (await page.getByTestId(`node-${id}`).getAttribute('data-member')) ?? '';
}

/** Waits for exactly one leader with QUORUM shown, other than not; returns its id. */
export function leader(page: Page, not?: string, timeout?: number): Promise<string> {
  return until(
    `a leader${not ? ` other than node ${not}` : ''} with quorum`,
    async () => {
      const r = await roles(page);
      const leaders = Object.keys(r).filter((id) => r[id] === 'leader');
      const quorum = await page.getByTestId('quorum').textContent();
      if (leaders.length !== 1 || leaders[0] === not || quorum !== 'QUORUM ✓') return undefined;
      return leaders[0];
    },
    timeout,
  );
}

/** Types a terminal command and waits for its final answer (not pending). */
export async function run(page: Page, command: string, timeout = 30_000): Promise<string> {
  const lines = page.getByTestId('terminal').locator('li');
  const before = await lines.count();
  const last = before > 0 ? await lines.last().getAttribute('data-seq') : null;
  await page.getByLabel('Command').fill(command);
  await page.getByRole('button', { name: 'Run' }).click();
  return until(
    `the answer to ${command}`,
    async () => {
      const line = lines.last();
      if ((await line.getAttribute('data-seq')) === last) return undefined;
      const text = (await line.getByTestId('output').textContent()) ?? '';
      return text.startsWith('⏳') || text === '…' ? undefined : text;
    },
    timeout,
  );
}

/** The log length node id's card shows. */
export async function logLength(page: Page, id: string): Promise<number> {
  return Number(await page.getByTestId(`log-${id}`).textContent());
}

/** The number node id's card shows in field (term, log, commit, first index); NaN while it shows none. */
export async function cardNumber(page: Page, field: 'term' | 'log' | 'commit' | 'first', id: string): Promise<number> {
  return Number(await page.getByTestId(`${field}-${id}`).textContent());
}

/** The snapshot index node id's card shows: 0 for none, NaN while it shows nothing. */
export async function snapshotIndex(page: Page, id: string): Promise<number> {
  const t = (await page.getByTestId(`snapshot-${id}`).textContent()) ?? '';
  return t === 'none' ? 0 : Number(t.replace('≤', '').trim());
}

/** How many event-log lines of node id contain text. */
export async function eventCount(page: Page, id: string, text: string): Promise<number> {
  const lines = await page.getByTestId('events').locator('li').allTextContents();
  return lines.filter((l) => l.includes(` N${id} `) && l.includes(text)).length;
}

/** Waits until every node's card shows the same log length and commit index, at least min; returns it. */
export function converged(page: Page, min = 0, ids = ['1', '2', '3'], timeout = 30_000): Promise<number> {
  return until(
    `nodes ${ids.join(', ')} to show the same log length and commit (at least ${min})`,
    async () => {
      const logs = await Promise.all(ids.map((id) => cardNumber(page, 'log', id)));
      const commits = await Promise.all(ids.map((id) => cardNumber(page, 'commit', id)));
      const n = logs[0]!;
      if (!(n >= min) || logs.some((x) => x !== n) || commits.some((x) => x !== n)) return undefined;
      return n;
    },
    timeout,
  );
}

export interface OpenPage {
  context: BrowserContext;
  page: Page;
  /** Asserts that the page threw no uncaught error, then closes its context. */
  close(): Promise<void>;
}

/** A fresh context (its own IndexedDB and localStorage) with url open; uncaught page errors are collected. */
export async function open(browser: Browser, url: string, viewport = { width: 1280, height: 900 }): Promise<OpenPage> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  return {
    context,
    page,
    async close() {
      await context.close();
      assert.deepEqual(errors, [], 'uncaught errors in the page');
    },
  };
}

/**
 * Sets up a test file's suite: serves the built dashboard (web/dist-app) and
 * launches Chromium before the tests, stops both after them. It returns a
 * function that opens the dashboard in a fresh context.
 */
export function dashboardSuite(): (viewport?: { width: number; height: number }) => Promise<OpenPage> {
  const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  let server: StaticServer | undefined;
  let browser: Browser | undefined;
  before(async () => {
    server = await serve(resolve(webDir, 'dist-app'));
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });
  return (viewport) => open(browser!, server!.url, viewport);
}
