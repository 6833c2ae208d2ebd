// Locating files of the repository from a compiled test in web/dist/test.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Returns the repository root: the nearest ancestor holding go.mod and testdata/. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'go.mod')) && existsSync(join(dir, 'testdata'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no repository root (go.mod and testdata/) above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** Returns the path of a file given relative to the repository root. */
export function repoPath(...parts: string[]): string {
  return join(repoRoot(), ...parts);
}
