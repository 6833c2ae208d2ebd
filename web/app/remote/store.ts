// The state of a native cluster as its nodes stream it: the same signals
// as the in-browser cluster's (so the same cards, badges and logs show
// it), plus each node's endpoint and the admin token.

import { signal } from '@preact/signals';

import { createClusterStore, type NodeView } from '../cluster/store.js';

export function createRemoteStore(endpoints: readonly string[], token: string) {
  // Until a node's first status names it, node i is the i-th endpoint's.
  const base = createClusterStore(
    endpoints.map((_, i) => BigInt(i + 1)),
    true,
  );
  /** endpointOf.value[i] is the origin of nodes.value[i]. */
  const endpointOf = signal<string[]>([...endpoints]);
  return {
    ...base,
    endpoints: endpointOf,
    token,
    /** Updates the node shown at position i (its id may change with its first status). */
    updateAt(i: number, f: (n: NodeView) => NodeView): void {
      base.nodes.value = base.nodes.value.map((n, j) => (j === i ? f(n) : n));
    },
    /** The endpoint of node id, if the page knows it. */
    endpointOf(id: bigint): string | undefined {
      const i = base.nodes.value.findIndex((n) => n.id === id);
      return i < 0 ? undefined : endpointOf.value[i];
    },
  };
}

export type RemoteStore = ReturnType<typeof createRemoteStore>;
