// Numbers of the in-browser cluster (not a test): commits per second
// through the terminal's client path (IndexedDB durability on every node),
// and the time from Kill Leader to the next commit.
// Usage: node dist-e2e/e2e/bench.js

import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { launch, leader, run } from './page.js';
import { serve } from './server.js';

const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const server = await serve(resolve(webDir, 'dist-app'));
const browser = await launch();
try {
  const page = await (await browser.newContext()).newPage();
  await page.goto(server.url);
  await leader(page);
  await run(page, 'SET warm up');
  for (const concurrency of [1, 16]) {
    const r = await page.evaluate(async (c) => {
      const w = (globalThis as unknown as { wraft: { exec(s: string): Promise<void>; store: { terminal: { value: { state: string }[] } } } }).wraft;
      const total = c === 1 ? 100 : 400;
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: c }, async () => {
          while (next < total) await w.exec(`SET k${next++} v`);
        }),
      );
      const ms = performance.now() - t0;
      const ok = w.store.terminal.value.filter((l) => l.state === 'ok').length;
      return { total, ms, ok };
    }, concurrency);
    console.log(`concurrency ${concurrency}: ${r.total} SETs in ${r.ms.toFixed(0)} ms = ${((r.total * 1000) / r.ms).toFixed(0)} commits/s`);
  }
  for (let i = 0; i < 3; i++) {
    const old = await leader(page);
    const t0 = Date.now();
    await page.getByRole('button', { name: 'Kill Leader' }).click();
    const answer = await run(page, `SET after-kill ${i}`, 60_000);
    const ms = Date.now() - t0;
    console.log(`kill leader ${old} -> next commit: ${ms} ms (${answer})`);
    await page.getByRole('button', { name: `Restart Node ${old}` }).click();
    await leader(page);
    await run(page, 'GET after-kill');
  }
} finally {
  await browser.close();
  await server.close();
}
