// BroadcastNetwork: the Network of nodes that run in different workers (or
// tabs) of one origin. All nodes of a cluster share one BroadcastChannel;
// each keeps the messages addressed to it. A chaos layer on each side
// drops, delays and partitions links: the sender applies drops, delays and
// cut links; the receiver checks cut links again, so that messages in
// flight when a partition forms are lost too.

import type { Endpoint, Network, NodeId, Receiver } from './network.js';

/** The faults a BroadcastNetwork injects. Every node of a cluster gets the same. */
export interface Chaos {
  /** Links that carry nothing, as "from>to" (directed). */
  cut: string[];
  /** Delay added to every message, in milliseconds. */
  delayMs: number;
  /** Probability in [0, 1] of losing each message. */
  dropRate: number;
}

/** No faults. */
export function noChaos(): Chaos {
  return { cut: [], delayMs: 0, dropRate: 0 };
}

/** Returns the cut links that split nodes into groups (a node in no group is cut from all). */
export function partitionLinks(nodes: readonly NodeId[], groups: readonly (readonly NodeId[])[]): string[] {
  const group = new Map<NodeId, number>();
  groups.forEach((g, i) => g.forEach((id) => group.set(id, i)));
  const cut: string[] = [];
  for (const a of nodes) {
    for (const b of nodes) {
      if (a === b) continue;
      const ga = group.get(a);
      if (ga === undefined || ga !== group.get(b)) cut.push(`${a}>${b}`);
    }
  }
  return cut;
}

/** What travels on the channel. */
interface Packet {
  from: bigint;
  to: bigint;
  bytes: Uint8Array;
}

/** The part of BroadcastChannel a BroadcastNetwork uses. */
export interface Channel {
  postMessage(message: unknown): void;
  onmessage: ((ev: MessageEvent) => void) | null;
  close(): void;
}

/** What became of one message at its sender: dropped (a cut link or the drop rate), or sent after delayMs. */
export interface SendFate {
  from: NodeId;
  to: NodeId;
  bytes: Uint8Array;
  dropped: boolean;
  delayMs: number;
}

/** Counters of one BroadcastNetwork. */
export interface BroadcastStats {
  sent: number;
  received: number;
  dropped: number;
}

/**
 * BroadcastNetwork attaches the nodes of one worker to the cluster's
 * channel (one channel object per attached node, since a BroadcastChannel
 * does not hear its own messages). random is Math.random unless given.
 */
export class BroadcastNetwork implements Network {
  private cut = new Set<string>();
  private delayMs = 0;
  private dropRate = 0;
  readonly stats: BroadcastStats = { sent: 0, received: 0, dropped: 0 };
  /** Called for every message a node of this network sends, after the chaos layer decided its fate (for dashboards). */
  onSend: ((fate: SendFate) => void) | undefined;

  constructor(
    /** The channel's name: one per cluster. */
    readonly name: string,
    chaos: Chaos = noChaos(),
    private readonly openChannel: (name: string) => Channel = (n) => new BroadcastChannel(n),
    private readonly random: () => number = Math.random,
  ) {
    this.setChaos(chaos);
  }

  /** Replaces the faults in force. */
  setChaos(chaos: Chaos): void {
    this.cut = new Set(chaos.cut);
    this.delayMs = Math.max(0, chaos.delayMs);
    this.dropRate = Math.min(1, Math.max(0, chaos.dropRate));
  }

  attach(id: NodeId, receive: Receiver): Endpoint {
    const channel = this.openChannel(this.name);
    let open = true;
    channel.onmessage = (ev: MessageEvent) => {
      const p = ev.data as Packet;
      if (!open || typeof p !== 'object' || p === null || p.to !== id || !(p.bytes instanceof Uint8Array)) return;
      if (this.cut.has(`${p.from}>${id}`)) {
        this.stats.dropped++;
        return;
      }
      this.stats.received++;
      receive(p.from, p.bytes);
    };
    const post = (p: Packet) => {
      if (open) channel.postMessage(p);
    };
    return {
      id,
      send: (to, bytes) => {
        if (!open) return;
        this.stats.sent++;
        if (this.cut.has(`${id}>${to}`) || (this.dropRate > 0 && this.random() < this.dropRate)) {
          this.stats.dropped++;
          this.onSend?.({ from: id, to, bytes, dropped: true, delayMs: this.delayMs });
          return;
        }
        this.onSend?.({ from: id, to, bytes, dropped: false, delayMs: this.delayMs });
        const p: Packet = { from: id, to, bytes: bytes.slice() };
        if (this.delayMs > 0) setTimeout(() => post(p), this.delayMs);
        else post(p);
      },
      close: () => {
        if (!open) return;
        open = false;
        channel.onmessage = null;
        channel.close();
      },
    };
  }
}
