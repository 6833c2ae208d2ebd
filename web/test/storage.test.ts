// Node storage: IndexedDB (under fake-indexeddb) and memory, held to the
// same Persist rules (docs/ABI.md).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';

import {
  EntryType,
  IndexedDBStorage,
  MemoryStorage,
  entryKey,
  type Entry,
  type NodeStorage,
  type Persist,
} from '../shim/index.js';

function entry(index: bigint, term: bigint, data = `d${index}`): Entry {
  return { index, term, type: EntryType.Normal, data: new TextEncoder().encode(data) };
}

function persist(term: bigint, commit: bigint, entries: Entry[]): Persist {
  return { kind: 'persist', hardState: { term, vote: 1n, commit }, entries };
}

/** Returns the indexes and terms of what s holds, and its hard state. */
async function dump(s: NodeStorage): Promise<{ hs: string; log: string[] }> {
  const r = await s.load();
  return {
    hs: `${r.hardState.term}/${r.hardState.vote}/${r.hardState.commit}`,
    log: r.entries.map((e) => `${e.index}@${e.term}:${new TextDecoder().decode(e.data)}`),
  };
}

const kinds: [string, (name: string) => Promise<NodeStorage>][] = [
  ['IndexedDBStorage', (name) => IndexedDBStorage.open(name, new IDBFactory(), IDBKeyRange)],
  ['MemoryStorage', () => Promise.resolve(new MemoryStorage())],
];

for (const [kind, open] of kinds) {
  describe(kind, () => {
    it('starts empty', async () => {
      const s = await open('empty');
      assert.deepEqual(await dump(s), { hs: '0/0/0', log: [] });
      s.close();
    });

    it('appends, truncates a conflicting suffix and replaces the hard state', async () => {
      const s = await open('truncate');
      await s.persist(persist(1n, 0n, [entry(1n, 1n), entry(2n, 1n), entry(3n, 1n)]));
      await s.persist(persist(1n, 2n, [entry(4n, 1n)]));
      assert.deepEqual(await dump(s), { hs: '1/1/2', log: ['1@1:d1', '2@1:d2', '3@1:d3', '4@1:d4'] });
      // A new leader overwrites from index 3: 3 and 4 go, whatever follows.
      await s.persist(persist(2n, 2n, [entry(3n, 2n, 'x3')]));
      assert.deepEqual(await dump(s), { hs: '2/1/2', log: ['1@1:d1', '2@1:d2', '3@2:x3'] });
      // A hard state alone leaves the log as it is.
      await s.persist(persist(3n, 3n, []));
      assert.deepEqual(await dump(s), { hs: '3/1/3', log: ['1@1:d1', '2@1:d2', '3@2:x3'] });
      s.close();
    });

    it('keeps entries in index order beyond 2^53', async () => {
      const s = await open('huge');
      const base = (1n << 60n) - 2n;
      await s.persist(persist(1n, 0n, [entry(base, 1n), entry(base + 1n, 1n), entry(base + 2n, 1n)]));
      await s.persist(persist(1n, 0n, [entry(base + 1n, 2n, 'y')]));
      const r = await s.load();
      assert.deepEqual(
        r.entries.map((e) => [e.index, e.term]),
        [
          [base, 1n],
          [base + 1n, 2n],
        ],
      );
      s.close();
    });

    it('does not alias the caller’s entries', async () => {
      const s = await open('alias');
      const e = entry(1n, 1n, 'abc');
      await s.persist(persist(1n, 0n, [e]));
      e.data.fill(0);
      const loaded = await s.load();
      assert.equal(new TextDecoder().decode(loaded.entries[0]!.data), 'abc');
      loaded.entries[0]!.data.fill(0);
      assert.equal(new TextDecoder().decode((await s.load()).entries[0]!.data), 'abc');
      s.close();
    });
  });
}

describe('IndexedDBStorage durability', () => {
  it('finds its state again after close and reopen, one database per node', async () => {
    const factory = new IDBFactory();
    const a = await IndexedDBStorage.open('wraft-node-1', factory, IDBKeyRange);
    const b = await IndexedDBStorage.open('wraft-node-2', factory, IDBKeyRange);
    await a.persist(persist(4n, 1n, [entry(1n, 4n)]));
    await b.persist(persist(5n, 0n, []));
    a.close();
    b.close();
    const a2 = await IndexedDBStorage.open('wraft-node-1', factory, IDBKeyRange);
    const b2 = await IndexedDBStorage.open('wraft-node-2', factory, IDBKeyRange);
    assert.deepEqual(await dump(a2), { hs: '4/1/1', log: ['1@4:d1'] });
    assert.deepEqual(await dump(b2), { hs: '5/1/0', log: [] });
    a2.close();
    b2.close();
    await IndexedDBStorage.destroy('wraft-node-1', factory);
    const a3 = await IndexedDBStorage.open('wraft-node-1', factory, IDBKeyRange);
    assert.deepEqual(await dump(a3), { hs: '0/0/0', log: [] });
    a3.close();
  });

  it('applies a persist in one transaction: a failure leaves the old state', async () => {
    const factory = new IDBFactory();
    const s = await IndexedDBStorage.open('atomic', factory, IDBKeyRange);
    await s.persist(persist(1n, 0n, [entry(1n, 1n), entry(2n, 1n)]));
    // An entry that cannot be stored (a function is not cloneable) aborts
    // the transaction after the delete of the suffix was queued.
    const bad = { ...entry(3n, 2n), data: (() => 0) as unknown as Uint8Array };
    await assert.rejects(s.persist(persist(2n, 1n, [entry(2n, 2n), bad])));
    assert.deepEqual(await dump(s), { hs: '1/1/0', log: ['1@1:d1', '2@1:d2'] });
    s.close();
  });

  it('sorts binary keys as indexes', () => {
    const cmp = (a: bigint, b: bigint) => new IDBFactory().cmp(entryKey(a), entryKey(b));
    assert.equal(cmp(1n, 2n), -1);
    assert.equal(cmp(255n, 256n), -1);
    assert.equal(cmp(1n << 53n, (1n << 53n) + 1n), -1);
    assert.equal(cmp(7n, 7n), 0);
  });
});
