// Durable node storage: what a node must find again after a crash, its
// hard state, its newest snapshot and its log after that snapshot. A host
// applies every Persist and SaveSnapshot effect here before it carries out
// anything that follows it, and restores an engine from load().

import type { Persist } from './encoding/effects.js';
import type { Restored } from './encoding/init.js';
import { zeroHardState, type Entry, type HardState, type Member, type Snapshot } from './encoding/raft.js';

/** What a host needs from storage. Implementations: IndexedDBStorage, MemoryStorage. */
export interface NodeStorage {
  /**
   * Applies p as docs/ABI.md says, atomically: when p.entries is not
   * empty, deletes every stored entry whose index is at or above
   * p.entries[0].index and appends p.entries; then stores p.hardState. The
   * promise resolves once all of it is durable.
   */
  persist(p: Persist): Promise<void>;
  /**
   * Applies a SaveSnapshot effect as docs/ABI.md says, atomically: stores
   * snapshot (replacing any older one), then deletes every stored entry at
   * or below snapshot.meta.index and, unless keepLog, every stored entry
   * after it too. The promise resolves once all of it is durable.
   */
  saveSnapshot(snapshot: Snapshot, keepLog: boolean): Promise<void>;
  /**
   * Returns the stored hard state, the newest snapshot (absent if none) and
   * every stored entry after the snapshot in index order, for init.
   */
  load(): Promise<Restored>;
  /** Releases the storage; it is unusable afterwards. */
  close(): void;
}

/** StorageError reports a failed storage operation; its cause is the underlying error. */
export class StorageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageError';
  }
}

/** Returns a deep copy of e's fields, so that storage never aliases the caller's arrays. */
function copyEntry(e: Entry): Entry {
  return { term: e.term, index: e.index, type: e.type, data: e.data.slice() };
}

function copyMembers(ms: readonly Member[]): Member[] {
  return ms.map((m) => ({ id: m.id, learner: m.learner, addr: m.addr }));
}

/** Returns a deep copy of s. */
function copySnapshot(s: Snapshot): Snapshot {
  return { meta: { index: s.meta.index, term: s.meta.term, members: copyMembers(s.meta.members) }, data: s.data.slice() };
}

/**
 * MemoryStorage keeps a node's state in memory: durable for as long as the
 * object lives, which is what tests and simulations need.
 */
export class MemoryStorage implements NodeStorage {
  private hardState: HardState = zeroHardState();
  private entries: Entry[] = [];
  private snap: Snapshot | undefined;

  persist(p: Persist): Promise<void> {
    this.apply(p);
    return Promise.resolve();
  }

  saveSnapshot(snapshot: Snapshot, keepLog: boolean): Promise<void> {
    this.applySnapshot(snapshot, keepLog);
    return Promise.resolve();
  }

  /** Applies a SaveSnapshot at once (saveSnapshot without the promise). */
  applySnapshot(snapshot: Snapshot, keepLog: boolean): void {
    this.snap = copySnapshot(snapshot);
    this.entries = keepLog ? this.entries.filter((e) => e.index > snapshot.meta.index) : [];
  }

  /** Applies p at once (persist without the promise). */
  apply(p: Persist): void {
    const first = p.entries[0];
    if (first !== undefined) {
      let keep = 0;
      while (keep < this.entries.length && this.entries[keep]!.index < first.index) keep++;
      this.entries.length = keep;
      for (const e of p.entries) this.entries.push(copyEntry(e));
    }
    this.hardState = { ...p.hardState };
  }

  load(): Promise<Restored> {
    return Promise.resolve(this.snapshot());
  }

  /** Returns what load resolves to, at once. */
  snapshot(): Restored {
    const r: Restored = { hardState: { ...this.hardState }, entries: this.entries.map(copyEntry) };
    if (this.snap !== undefined) r.snapshot = copySnapshot(this.snap);
    return r;
  }

  close(): void {}
}

/** The IndexedDB schema version of IndexedDBStorage's databases. */
const SCHEMA_VERSION = 1;
const ENTRIES = 'entries';
const META = 'meta';
const HARD_STATE_KEY = 'hardState';
const SNAPSHOT_KEY = 'snapshot';

/** An entry as IndexedDB stores it (structured clone keeps bigints). */
interface StoredEntry {
  term: bigint;
  index: bigint;
  type: number;
  data: Uint8Array;
}

/** A snapshot as IndexedDB stores it, in store "meta" under "snapshot". */
interface StoredSnapshot {
  index: bigint;
  term: bigint;
  members: Member[];
  data: Uint8Array;
}

/**
 * Returns the key of the entry at index: the index as 8 bytes big-endian,
 * a binary key, so that keys sort as the indexes do over the whole uint64
 * range (a number key would lose precision above 2^53).
 */
export function entryKey(index: bigint): ArrayBuffer {
  const b = new ArrayBuffer(8);
  new DataView(b).setBigUint64(0, index, false);
  return b;
}

/**
 * IndexedDBStorage keeps one node's state in an IndexedDB database of its
 * own: object store "entries" (entries keyed by entryKey(index)) and object
 * store "meta" (the hard state under "hardState", the newest snapshot
 * under "snapshot"). Every persist and saveSnapshot is one readwrite
 * transaction with strict durability; it resolves when the transaction
 * completes.
 */
export class IndexedDBStorage implements NodeStorage {
  private constructor(
    private readonly db: IDBDatabase,
    private readonly keyRange: typeof IDBKeyRange,
    /** The database's name. */
    readonly name: string,
  ) {}

  /**
   * Opens (creating if need be) the database name. factory and keyRange
   * default to the global indexedDB and IDBKeyRange; tests pass
   * fake-indexeddb's.
   */
  static async open(
    name: string,
    factory: IDBFactory = globalThis.indexedDB,
    keyRange: typeof IDBKeyRange = globalThis.IDBKeyRange,
  ): Promise<IndexedDBStorage> {
    if (factory === undefined || keyRange === undefined) throw new StorageError('storage: no IndexedDB in this environment');
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = factory.open(name, SCHEMA_VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains(ENTRIES)) db.createObjectStore(ENTRIES);
        if (!db.objectStoreNames.contains(META)) db.createObjectStore(META);
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(new StorageError(`storage: opening ${name}: ${String(req.error)}`, { cause: req.error }));
      req.onblocked = () => reject(new StorageError(`storage: opening ${name}: blocked by another connection`));
    });
    return new IndexedDBStorage(db, keyRange, name);
  }

  /** Deletes the database name and everything in it. */
  static destroy(name: string, factory: IDBFactory = globalThis.indexedDB): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = factory.deleteDatabase(name);
      req.onsuccess = () => resolve();
      req.onerror = () => reject(new StorageError(`storage: deleting ${name}: ${String(req.error)}`, { cause: req.error }));
    });
  }

  persist(p: Persist): Promise<void> {
    return this.write('persist', (entries, meta) => {
      const first = p.entries[0];
      if (first !== undefined) {
        entries.delete(this.keyRange.lowerBound(entryKey(first.index)));
        for (const e of p.entries) {
          const stored: StoredEntry = { term: e.term, index: e.index, type: e.type, data: e.data };
          entries.put(stored, entryKey(e.index));
        }
      }
      const hs: HardState = { term: p.hardState.term, vote: p.hardState.vote, commit: p.hardState.commit };
      meta.put(hs, HARD_STATE_KEY);
    });
  }

  saveSnapshot(snapshot: Snapshot, keepLog: boolean): Promise<void> {
    return this.write('saveSnapshot', (entries, meta) => {
      const stored: StoredSnapshot = {
        index: snapshot.meta.index,
        term: snapshot.meta.term,
        members: copyMembers(snapshot.meta.members),
        data: snapshot.data,
      };
      meta.put(stored, SNAPSHOT_KEY);
      if (keepLog) entries.delete(this.keyRange.upperBound(entryKey(snapshot.meta.index)));
      else entries.clear();
    });
  }

  /**
   * Runs f's requests in one readwrite transaction with strict durability
   * and resolves when it commits; nothing of it applies if it fails.
   */
  private write(what: string, f: (entries: IDBObjectStore, meta: IDBObjectStore) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      let tx: IDBTransaction | undefined;
      try {
        tx = this.db.transaction([ENTRIES, META], 'readwrite', { durability: 'strict' });
        f(tx.objectStore(ENTRIES), tx.objectStore(META));
      } catch (err) {
        // A request that throws (an uncloneable value, say) leaves the
        // transaction active: abort it, so that nothing of it is applied.
        const failure = new StorageError(`storage: ${what} in ${this.name}: ${String(err)}`, { cause: err });
        if (tx === undefined) {
          reject(failure);
          return;
        }
        tx.onabort = tx.onerror = () => reject(failure);
        try {
          tx.abort();
        } catch {
          reject(failure);
        }
        return;
      }
      const t = tx;
      t.oncomplete = () => resolve();
      t.onerror = () => reject(new StorageError(`storage: ${what} in ${this.name}: ${String(t.error)}`, { cause: t.error }));
      t.onabort = () => reject(new StorageError(`storage: ${what} in ${this.name} aborted: ${String(t.error)}`, { cause: t.error }));
    });
  }

  load(): Promise<Restored> {
    return new Promise((resolve, reject) => {
      const tx = this.db.transaction([ENTRIES, META], 'readonly');
      const hsReq = tx.objectStore(META).get(HARD_STATE_KEY);
      const snapReq = tx.objectStore(META).get(SNAPSHOT_KEY);
      const entriesReq = tx.objectStore(ENTRIES).getAll();
      tx.oncomplete = () => {
        const hs = hsReq.result as HardState | undefined;
        const snap = snapReq.result as StoredSnapshot | undefined;
        const stored = entriesReq.result as StoredEntry[];
        const after = snap?.index ?? 0n;
        const r: Restored = {
          hardState: hs === undefined ? zeroHardState() : { term: hs.term, vote: hs.vote, commit: hs.commit },
          // saveSnapshot deleted what the snapshot covers; the filter is a guard.
          entries: stored
            .filter((e) => e.index > after)
            .map((e) => ({ term: e.term, index: e.index, type: e.type as Entry['type'], data: e.data })),
        };
        if (snap !== undefined) {
          r.snapshot = { meta: { index: snap.index, term: snap.term, members: copyMembers(snap.members) }, data: snap.data };
        }
        resolve(r);
      };
      tx.onerror = () => reject(new StorageError(`storage: load from ${this.name}: ${String(tx.error)}`, { cause: tx.error }));
      tx.onabort = () => reject(new StorageError(`storage: load from ${this.name} aborted: ${String(tx.error)}`, { cause: tx.error }));
    });
  }

  close(): void {
    this.db.close();
  }
}
