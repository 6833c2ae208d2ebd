// RaftNode against the real raft.wasm, under both WASI implementations.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  CoreError,
  EventKind,
  Op,
  RaftNode,
  ReplyCode,
  Role,
  emptyRestored,
  newCommand,
  newConfig,
  type Effect,
  type Input,
  type WasiHost,
} from '../shim/index.js';
import { browserWasi, nodeWasi, raftWasm } from './wasm.js';

/** Ticks a single-node cluster until it leads, acknowledging what it persists. */
function tickUntilLeader(node: RaftNode): void {
  for (let i = 0; i < 100; i++) {
    const effects = node.handle([{ kind: 'tick' }]);
    ackPersists(node, effects);
    for (const e of effects) if (e.kind === 'statusReport' && e.status.role === Role.Leader) return;
  }
  assert.fail('no leader after 100 ticks');
}

/** Acknowledges every Persist with entries in effects, and what that returns, recursively. */
function ackPersists(node: RaftNode, effects: Effect[]): Effect[] {
  const all: Effect[] = [];
  let next: Effect[] = effects;
  while (next.length > 0) {
    all.push(...next);
    const acks: Input[] = [];
    for (const e of next) {
      const last = e.kind === 'persist' ? e.entries[e.entries.length - 1] : undefined;
      if (last !== undefined) acks.push({ kind: 'storageAck', index: last.index, term: last.term });
    }
    next = acks.length > 0 ? node.handle(acks) : [];
  }
  return all;
}

const wasis: [string, () => WasiHost][] = [
  ['node:wasi', nodeWasi],
  ['browser_wasi_shim', browserWasi],
];

for (const [name, wasi] of wasis) {
  describe(`RaftNode with ${name}`, () => {
    it('elects itself, commits a write and reads it back', async () => {
      const node = await RaftNode.create(await raftWasm(), wasi());
      node.init(newConfig(1n, [1n], 7n), emptyRestored());
      tickUntilLeader(node);

      const set = newCommand(Op.Set, 'greeting', { clientID: 1n, seq: 1n, value: new TextEncoder().encode('hello') });
      const effects = ackPersists(node, node.handle([{ kind: 'propose', requestID: 10n, command: set }]));
      const reply = effects.find((e) => e.kind === 'reply' && e.requestID === 10n);
      assert.ok(reply && reply.kind === 'reply', 'no reply to the write');
      assert.equal(reply.code, ReplyCode.OK, reply.error);
      assert.equal(reply.acks, 1n);
      assert.ok(reply.index > 0n);

      const read = node.handle([{ kind: 'read', requestID: 11n, key: 'greeting', stale: false }]);
      const r = read.find((e) => e.kind === 'reply');
      assert.ok(r && r.kind === 'reply');
      assert.equal(r.code, ReplyCode.OK, r.error);
      assert.equal(new TextDecoder().decode(r.value), 'hello');
    });

    it('returns the batch bytes it decoded', async () => {
      const node = RaftNode.createSync(await raftWasm(), wasi());
      node.init(newConfig(1n, [1n, 2n, 3n], 1n), emptyRestored());
      const { effects, bytes } = node.handleBatch([{ kind: 'tick' }]);
      assert.equal(bytes[0], 1, 'version byte');
      assert.ok(effects.some((e) => e.kind === 'statusReport'));
    });

    it('throws a CoreError for a config the engine refuses, and stays failed', async () => {
      const node = await RaftNode.create(await raftWasm(), wasi());
      assert.throws(() => node.init(newConfig(4n, [1n, 2n, 3n], 1n), emptyRestored()), (err: unknown) => {
        assert.ok(err instanceof CoreError);
        assert.match(err.message, /node 4 is not a member/);
        return true;
      });
      assert.ok(node.failed);
      assert.throws(() => node.handle([{ kind: 'tick' }]), CoreError);
    });

    it('refuses handle before init', async () => {
      const node = await RaftNode.create(await raftWasm(), wasi());
      assert.throws(() => node.handle([{ kind: 'tick' }]), CoreError);
    });

    it('survives memory growth between calls', async () => {
      const node = await RaftNode.create(await raftWasm(), wasi());
      node.init(newConfig(1n, [1n], 3n), emptyRestored());
      tickUntilLeader(node);
      // Large values make the module grow its memory; every call must still read right.
      const big = new Uint8Array(60_000).fill(0x61);
      for (let seq = 1n; seq <= 40n; seq++) {
        const cmd = newCommand(Op.Set, `k${seq}`, { clientID: 2n, seq, value: big });
        const effects = ackPersists(node, node.handle([{ kind: 'propose', requestID: seq, command: cmd }]));
        const reply = effects.find((e) => e.kind === 'reply');
        assert.ok(reply && reply.kind === 'reply' && reply.code === ReplyCode.OK, `write ${seq}`);
      }
      const effects = node.handle([{ kind: 'read', requestID: 99n, key: 'k40', stale: true }]);
      const r = effects.find((e) => e.kind === 'reply');
      assert.ok(r && r.kind === 'reply');
      assert.deepEqual(r.value, big);
    });
  });
}

describe('RaftNode events', () => {
  it('reports EventKind values the shim knows', async () => {
    const node = await RaftNode.create(await raftWasm(), nodeWasi());
    node.init(newConfig(1n, [1n], 9n), emptyRestored());
    const kinds = new Set<number>();
    for (let i = 0; i < 50; i++) {
      for (const e of ackPersists(node, node.handle([{ kind: 'tick' }]))) if (e.kind === 'emit') kinds.add(e.event.kind);
    }
    assert.ok(kinds.has(EventKind.Elected), `kinds seen: ${[...kinds].join(', ')}`);
  });
});
