// TermLog wraps a node's storage and keeps the term of every entry it
// persisted or loaded after the newest snapshot: what the dashboard's log
// view shows is the node's durable log, not a guess.

import type { NodeStorage, Persist, Restored, Snapshot } from '../../shim/index.js';

export class TermLog implements NodeStorage {
  /** terms[i] is the term of entry base+i. */
  readonly terms: bigint[] = [];
  /** The index of the first entry after the snapshot (1 without one). */
  private base = 1n;
  /** The index of the newest durable snapshot, or 0. */
  snapshotIndex = 0n;

  constructor(private readonly inner: NodeStorage) {}

  async persist(p: Persist): Promise<void> {
    await this.inner.persist(p);
    const first = p.entries[0];
    if (first === undefined) return;
    if (first.index < this.base) {
      // Not after a snapshot: keep what follows it only.
      this.terms.length = 0;
      for (const e of p.entries) if (e.index >= this.base) this.terms.push(e.term);
      return;
    }
    this.terms.length = Math.min(this.terms.length, Number(first.index - this.base));
    for (const e of p.entries) this.terms.push(e.term);
  }

  async saveSnapshot(s: Snapshot, keepLog: boolean): Promise<void> {
    await this.inner.saveSnapshot(s, keepLog);
    const next = s.meta.index + 1n;
    if (keepLog && next > this.base) this.terms.splice(0, Math.min(this.terms.length, Number(next - this.base)));
    else if (!keepLog) this.terms.length = 0;
    this.base = next;
    this.snapshotIndex = s.meta.index;
  }

  async load(): Promise<Restored> {
    const r = await this.inner.load();
    this.terms.length = 0;
    this.snapshotIndex = r.snapshot?.meta.index ?? 0n;
    this.base = r.entries[0]?.index ?? this.snapshotIndex + 1n;
    for (const e of r.entries) this.terms.push(e.term);
    return r;
  }

  close(): void {
    this.inner.close();
  }

  /** The last n terms and the index of the first of them. */
  tail(n: number): { terms: bigint[]; firstIndex: bigint } {
    const start = Math.max(0, this.terms.length - n);
    return { terms: this.terms.slice(start), firstIndex: this.base + BigInt(start) };
  }
}
