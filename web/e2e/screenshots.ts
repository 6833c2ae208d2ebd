// Screenshots of the dashboard for the README (desktop and phone), taken
// from the built app with a live cluster that has done a few writes.
// Usage: node dist-e2e/e2e/screenshots.js <outdir>

import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { launch, leader, run } from './page.js';
import { serve } from './server.js';

const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = resolve(process.argv[2] ?? resolve(webDir, '..', 'docs', 'assets'));
mkdirSync(out, { recursive: true });

const server = await serve(resolve(webDir, 'dist-app'));
const browser = await launch();
try {
  for (const [name, viewport, full] of [
    ['dashboard-desktop.png', { width: 1280, height: 900 }, false],
    ['dashboard-phone.png', { width: 390, height: 844 }, true],
  ] as const) {
    const context = await browser.newContext({ viewport, deviceScaleFactor: name.includes('phone') ? 2 : 1 });
    const page = await context.newPage();
    await page.goto(server.url);
    const l = await leader(page);
    await run(page, 'SET temperature 72.5');
    await run(page, 'SET pressure 14.7');
    await run(page, 'GET temperature');
    const victim = ['1', '2', '3'].find((x) => x !== l)!;
    await page.getByRole('button', { name: `Kill Node ${victim}` }).click();
    await run(page, 'SET humidity 41');
    await page.screenshot({ path: resolve(out, name), fullPage: full });
    console.log(`wrote ${resolve(out, name)}`);
    await context.close();
  }
} finally {
  await browser.close();
  await server.close();
}
