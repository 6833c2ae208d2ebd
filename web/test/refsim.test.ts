// The reference simulation through raft.wasm must give the trace hashes
// that Go's refsim gives with the native engine (testdata/vectors/refsim.json).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { RaftNode, SplitMix64, runRefsim, type WasiHost } from '../shim/index.js';
import { repoPath } from './paths.js';
import { browserWasi, nodeWasi, raftWasm } from './wasm.js';

interface Golden {
  runs: { seed: string; steps: number; sha256: string }[];
}

const golden: Golden = JSON.parse(readFileSync(repoPath('testdata', 'vectors', 'refsim.json'), 'utf8'));

function factory(wasi: () => WasiHost) {
  return async (config: Parameters<RaftNode['init']>[0], restored: Parameters<RaftNode['init']>[1]) => {
    const node = await RaftNode.create(await raftWasm(), wasi());
    node.init(config, restored);
    return node;
  };
}

const stale =
  'if Go\'s refsim test passes, bin/raft.wasm may be older than the engine: rebuild it (make build)';

describe('reference simulation through raft.wasm', () => {
  it('has golden runs', () => {
    assert.ok(golden.runs.length >= 3);
  });

  for (const run of golden.runs) {
    it(`seed ${run.seed}, ${run.steps} steps (node:wasi)`, async () => {
      const { sha256, stats } = await runRefsim(BigInt(run.seed), run.steps, factory(nodeWasi));
      assert.ok(stats.writesOK > 0 && stats.elected > 0, `a run that did nothing: ${JSON.stringify(stats)}`);
      assert.equal(sha256, run.sha256, `trace hash differs from the native engine's (${stale})`);
    });
  }

  it('gives the same hash under browser_wasi_shim', async () => {
    const run = golden.runs[0]!;
    const { sha256 } = await runRefsim(BigInt(run.seed), run.steps, factory(browserWasi));
    assert.equal(sha256, run.sha256, stale);
  });
});

describe('SplitMix64', () => {
  it('matches the reference outputs for seed 0 (as Go refsim.TestSplitmix64)', () => {
    const s = new SplitMix64(0n);
    assert.deepEqual([s.next(), s.next(), s.next()], [0xe220a8397b1dcdafn, 0x6e789e6aa1b965f4n, 0x06c45d188009454fn]);
  });

  it('wraps like a uint64 from the largest seed', () => {
    const s = new SplitMix64(0xffffffffffffffffn);
    for (let i = 0; i < 1000; i++) {
      const v = s.next();
      assert.ok(v >= 0n && v <= 0xffffffffffffffffn);
    }
  });
});
