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
  type Snapshot,
} from '../shim/index.js';

function entry(index: bigint, term: bigint, data = `d${index}`): Entry {
  return { index, term, type: EntryType.Normal, data: new TextEncoder().encode(data) };
}

function persist(term: bigint, commit: bigint, entries: Entry[]): Persist {
  return { kind: 'persist', hardState: { term, vote: 1n, commit }, entries };
}

function snapshot(index: bigint, term: bigint, data: string): Snapshot {
  return {
    meta: { index, term, members: [{ id: 1n, learner: false, addr: 'a1' }, { id: 4n, learner: true, addr: '' }] },
    data: new TextEncoder().encode(data),
  };
}

/** Returns the indexes and terms of what s holds, and its hard state (and its snapshot, if any). */
async function dump(s: NodeStorage): Promise<{ hs: string; log: string[]; snap?: string }> {
  const r = await s.load();
  const out: { hs: string; log: string[]; snap?: string } = {
    hs: `${r.hardState.term}/${r.hardState.vote}/${r.hardState.commit}`,
    log: r.entries.map((e) => `${e.index}@${e.term}:${new TextDecoder().decode(e.data)}`),
  };
  if (r.snapshot !== undefined) {
    const m = r.snapshot.meta;
    const members = m.members.map((x) => `${x.id}${x.learner ? 'L' : 'V'}${x.addr}`).join(',');
    out.snap = `${m.index}@${m.term}[${members}]:${new TextDecoder().decode(r.snapshot.data)}`;
  }
  return out;
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

    it('saves a snapshot: drops the entries it covers, keeps those after it', async () => {
      const s = await open('snap-keep');
      await s.persist(persist(2n, 4n, [1n, 2n, 3n, 4n, 5n, 6n].map((i) => entry(i, i < 4n ? 1n : 2n))));
      await s.saveSnapshot(snapshot(4n, 2n, 'state@4'), true);
      assert.deepEqual(await dump(s), { hs: '2/1/4', log: ['5@2:d5', '6@2:d6'], snap: '4@2[1Va1,4L]:state@4' });
      // Appends go on after the snapshot; a conflicting suffix is replaced as before.
      await s.persist(persist(3n, 6n, [entry(6n, 3n, 'x6'), entry(7n, 3n)]));
      assert.deepEqual((await dump(s)).log, ['5@2:d5', '6@3:x6', '7@3:d7']);
      // A newer snapshot replaces the older one.
      await s.saveSnapshot(snapshot(6n, 3n, 'state@6'), true);
      assert.deepEqual(await dump(s), { hs: '3/1/6', log: ['7@3:d7'], snap: '6@3[1Va1,4L]:state@6' });
      s.close();
    });

    it('saves a snapshot without its log: drops every entry (an installed snapshot)', async () => {
      const s = await open('snap-drop');
      await s.persist(persist(1n, 2n, [entry(1n, 1n), entry(2n, 1n), entry(3n, 1n)]));
      // The leader's snapshot lies past the log: nothing of it stays.
      await s.saveSnapshot(snapshot(10n, 2n, 'leader'), false);
      assert.deepEqual(await dump(s), { hs: '1/1/2', log: [], snap: '10@2[1Va1,4L]:leader' });
      await s.persist(persist(2n, 10n, [entry(11n, 2n)]));
      assert.deepEqual(await dump(s), { hs: '2/1/10', log: ['11@2:d11'], snap: '10@2[1Va1,4L]:leader' });
      s.close();
    });

    it('does not alias the caller’s snapshot', async () => {
      const s = await open('snap-alias');
      const snap = snapshot(3n, 1n, 'abc');
      await s.saveSnapshot(snap, false);
      snap.data.fill(0);
      snap.meta.members.length = 0;
      const loaded = await s.load();
      assert.equal(new TextDecoder().decode(loaded.snapshot!.data), 'abc');
      assert.equal(loaded.snapshot!.meta.members.length, 2);
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

  it('finds its snapshot again after close and reopen', async () => {
    const factory = new IDBFactory();
    const a = await IndexedDBStorage.open('wraft-node-9', factory, IDBKeyRange);
    await a.persist(persist(2n, 3n, [entry(1n, 1n), entry(2n, 1n), entry(3n, 2n), entry(4n, 2n)]));
    await a.saveSnapshot(snapshot(3n, 2n, 'kv'), true);
    a.close();
    const b = await IndexedDBStorage.open('wraft-node-9', factory, IDBKeyRange);
    assert.deepEqual(await dump(b), { hs: '2/1/3', log: ['4@2:d4'], snap: '3@2[1Va1,4L]:kv' });
    const r = await b.load();
    assert.equal(r.snapshot!.meta.index, 3n);
    assert.equal(typeof r.snapshot!.meta.members[0]!.id, 'bigint');
    b.close();
  });

  it('saves a snapshot in one transaction: a failure leaves the old state', async () => {
    const factory = new IDBFactory();
    const s = await IndexedDBStorage.open('snap-atomic', factory, IDBKeyRange);
    await s.persist(persist(1n, 2n, [entry(1n, 1n), entry(2n, 1n), entry(3n, 1n)]));
    await s.saveSnapshot(snapshot(1n, 1n, 'one'), true);
    const bad = { ...snapshot(2n, 1n, 'two'), data: (() => 0) as unknown as Uint8Array };
    await assert.rejects(s.saveSnapshot(bad, false));
    assert.deepEqual(await dump(s), { hs: '1/1/2', log: ['2@1:d2', '3@1:d3'], snap: '1@1[1Va1,4L]:one' });
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
