// The Node host must load the very raft.wasm that `make build` wrote and
// recorded: its sha256 must match bin/raft.wasm.sha256 (which the Go tests
// compare with the daemon's embedded copy and with a fresh build).

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { repoPath } from './paths.js';

test('the Node host loads the raft.wasm whose digest make build recorded', (t) => {
  const wasm = repoPath('bin', 'raft.wasm');
  const digest = repoPath('bin', 'raft.wasm.sha256');
  if (!existsSync(digest)) {
    t.skip('no bin/raft.wasm.sha256: run `make build`');
    return;
  }
  const have = createHash('sha256').update(readFileSync(wasm)).digest('hex');
  const want = readFileSync(digest, 'utf8').trim().split(/\s+/)[0];
  assert.equal(have, want, 'bin/raft.wasm does not match bin/raft.wasm.sha256: run `make build`');
});
