// The one hook through which components reach the store and the controls,
// whichever cluster the page shows: the in-browser one (cluster/) or a
// native one over its HTTP API (remote/).

import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

import type { ClusterStore } from '../cluster/store.js';

/** What a cluster behind the dashboard can do besides the common controls. */
export interface Capabilities {
  /** Restart a killed node, Restart All, Reset. */
  restart: boolean;
  /** Switch PreVote (otherwise the switch shows what the nodes report). */
  preVote: boolean;
  /** Each node's durable log, entry by entry. */
  logs: boolean;
  /** Hand leadership to a node. */
  transfer: boolean;
  /** The messages between the nodes, drawn over the cards. */
  traffic: boolean;
  /** Add node, Remove: grow and shrink the cluster. */
  membership: boolean;
}

/** The controls the components call; both controllers implement them. */
export interface Dashboard {
  readonly store: ClusterStore;
  readonly caps: Capabilities;
  /** The header's title. */
  readonly title: string;
  exec(input: string): Promise<void>;
  kill(id: bigint): void;
  killLeader(): bigint | undefined;
  restart(id: bigint): void;
  restartAll(): void;
  reset(): Promise<void>;
  isolate(id: bigint, rogue?: boolean): void;
  slow(on: boolean): void;
  heal(): void;
  setPreVote(on: boolean): void;
  transfer(id: bigint): void;
  /** Adds a node: it joins as a learner, catches up and is promoted (caps.membership). */
  addNode(): Promise<void>;
  /** Removes node id from the cluster through the leader (caps.membership). */
  removeNode(id: bigint): Promise<void>;
}

export const ClusterContext = createContext<Dashboard | undefined>(undefined);

export function useCluster(): Dashboard {
  const c = useContext(ClusterContext);
  if (c === undefined) throw new Error('useCluster outside ClusterContext');
  return c;
}
