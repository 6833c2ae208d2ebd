// The network between nodes. A host sends each Send effect's bytes through
// an Endpoint and hands what its Receiver gets to the engine. Delivery may
// fail silently: Raft tolerates loss, duplication and reordering.
//
// MemoryNetwork is the in-memory implementation for tests, driven step by
// step, with hooks for drops, delays and partitions. A BroadcastChannel
// implementation (one channel per cluster, each node filtering the
// messages addressed to it) plugs in behind the same Network interface.

/** A node id, as in the engine's config. */
export type NodeId = bigint;

/** Receives a message addressed to this node: from is the sender, bytes the encoded message. */
export type Receiver = (from: NodeId, bytes: Uint8Array) => void;

/** One node's attachment to a network. */
export interface Endpoint {
  readonly id: NodeId;
  /**
   * Sends an encoded message to node to. It never throws for a delivery
   * problem: the message may be lost. The network copies bytes (or does not
   * keep them) before it returns.
   */
  send(to: NodeId, bytes: Uint8Array): void;
  /** Detaches the node: it sends and receives nothing more. */
  close(): void;
}

/** A network nodes attach to. */
export interface Network {
  /**
   * Attaches node id: receive gets every message addressed to it, until the
   * endpoint is closed. A node attaches once at a time.
   */
  attach(id: NodeId, receive: Receiver): Endpoint;
}

/** A message in flight on a MemoryNetwork. */
export interface Envelope {
  /** Order of sending, from 0. */
  readonly seq: number;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly bytes: Uint8Array;
  /** The network time at which it may be delivered. */
  readonly due: number;
}

/** Hooks that decide the fate of each message sent on a MemoryNetwork. */
export interface Faults {
  /** Returns true to lose the message at send. */
  drop?: (env: Omit<Envelope, 'due'>) => boolean;
  /** Returns the message's delay in network time units (0: deliverable at once). */
  delay?: (env: Omit<Envelope, 'due'>) => number;
}

/** Counters of a MemoryNetwork. */
export interface NetworkStats {
  sent: number;
  delivered: number;
  /** Lost to the drop hook, a partition, or a closed or missing destination. */
  dropped: number;
}

/**
 * MemoryNetwork holds messages in flight in memory until the test delivers
 * them: deliverNext hands over the oldest message that is due, deliverAll
 * repeats that, and advance moves the network's clock for delayed
 * messages. A partition drops messages between groups, both at send and at
 * delivery (so messages in flight when it forms are lost too).
 */
export class MemoryNetwork implements Network {
  private readonly receivers = new Map<NodeId, Receiver>();
  private queue: Envelope[] = [];
  private seq = 0;
  private time = 0;
  /** Group of each node under the current partition; undefined when healed. */
  private groups: Map<NodeId, number> | undefined;
  /** Hooks deciding each message's fate; replace them at any time. */
  faults: Faults = {};
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0 };

  attach(id: NodeId, receive: Receiver): Endpoint {
    if (this.receivers.has(id)) throw new Error(`network: node ${id} is already attached`);
    this.receivers.set(id, receive);
    let open = true;
    return {
      id,
      send: (to, bytes) => {
        if (open) this.send(id, to, bytes);
      },
      close: () => {
        if (open && this.receivers.get(id) === receive) this.receivers.delete(id);
        open = false;
      },
    };
  }

  /** The network's clock. */
  get now(): number {
    return this.time;
  }

  /** The number of messages in flight. */
  get pending(): number {
    return this.queue.length;
  }

  /** The messages in flight, oldest first. */
  inFlight(): readonly Envelope[] {
    return this.queue;
  }

  private send(from: NodeId, to: NodeId, bytes: Uint8Array): void {
    const env = { seq: this.seq++, from, to, bytes: bytes.slice() };
    this.stats.sent++;
    if (this.cut(from, to) || this.faults.drop?.(env)) {
      this.stats.dropped++;
      return;
    }
    const delay = Math.max(0, Math.floor(this.faults.delay?.(env) ?? 0));
    this.queue.push({ ...env, due: this.time + delay });
  }

  /** Moves the clock forward by dt units, making delayed messages due. */
  advance(dt = 1): void {
    this.time += dt;
  }

  /**
   * Delivers the oldest message that is due, if any, and returns whether
   * there was one (a message dropped at delivery counts).
   */
  deliverNext(): boolean {
    const i = this.queue.findIndex((e) => e.due <= this.time);
    if (i < 0) return false;
    this.deliverAt(i);
    return true;
  }

  /**
   * Delivers due messages, including those sent by the receivers meanwhile,
   * until none is due or max deliveries were made; returns how many.
   */
  deliverAll(max = 100_000): number {
    let n = 0;
    while (n < max && this.deliverNext()) n++;
    return n;
  }

  /** Takes message i of inFlight() off the queue and delivers it now, due or not. */
  deliverAt(i: number): void {
    const [env] = this.queue.splice(i, 1);
    if (env === undefined) throw new RangeError(`network: no message ${i} in flight`);
    const receive = this.receivers.get(env.to);
    if (receive === undefined || this.cut(env.from, env.to)) {
      this.stats.dropped++;
      return;
    }
    this.stats.delivered++;
    receive(env.from, env.bytes);
  }

  /** Loses message i of inFlight(). */
  dropAt(i: number): void {
    if (this.queue.splice(i, 1).length === 0) throw new RangeError(`network: no message ${i} in flight`);
    this.stats.dropped++;
  }

  /** Loses every message in flight. */
  dropAll(): void {
    this.stats.dropped += this.queue.length;
    this.queue = [];
  }

  /**
   * Splits the nodes into groups that cannot reach one another. A node in
   * no group is cut off from every node.
   */
  partition(...groups: NodeId[][]): void {
    const m = new Map<NodeId, number>();
    groups.forEach((g, i) => g.forEach((id) => m.set(id, i)));
    this.groups = m;
  }

  /** Cuts node id off from all the others (and they from it). */
  isolate(id: NodeId): void {
    const others = [...this.receivers.keys()].filter((x) => x !== id);
    this.partition([id], others);
  }

  /** Ends any partition. */
  heal(): void {
    this.groups = undefined;
  }

  /** Reports whether a partition separates from and to. */
  cut(from: NodeId, to: NodeId): boolean {
    if (this.groups === undefined) return false;
    const a = this.groups.get(from);
    const b = this.groups.get(to);
    return a === undefined || b === undefined || a !== b;
  }
}
