// TermLog wraps a node's storage and keeps the term of every entry it
// persisted or loaded: what the dashboard's log view shows is the node's
// durable log, not a guess.

import type { NodeStorage, Persist, Restored } from '../../shim/index.js';

export class TermLog implements NodeStorage {
  /** terms[i] is the term of entry i+1. */
  readonly terms: bigint[] = [];

  constructor(private readonly inner: NodeStorage) {}

  async persist(p: Persist): Promise<void> {
    await this.inner.persist(p);
    const first = p.entries[0];
    if (first === undefined) return;
    this.terms.length = Math.min(this.terms.length, Number(first.index) - 1);
    for (const e of p.entries) this.terms.push(e.term);
  }

  async load(): Promise<Restored> {
    const r = await this.inner.load();
    this.terms.length = 0;
    for (const e of r.entries) this.terms.push(e.term);
    return r;
  }

  close(): void {
    this.inner.close();
  }

  /** The last n terms and the index of the first of them. */
  tail(n: number): { terms: bigint[]; firstIndex: bigint } {
    const start = Math.max(0, this.terms.length - n);
    return { terms: this.terms.slice(start), firstIndex: BigInt(start + 1) };
  }
}
