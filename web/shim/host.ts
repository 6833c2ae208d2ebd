// NodeHost: one node's host loop. It feeds inputs to a core, carries out
// the effects in order (persist and save snapshots durably, then send; replies to the waiting
// callers; status and events to listeners), acknowledges what storage made
// durable, and recreates the core from storage when it fails. It is the
// same in a browser worker and under Node: the core, storage and network
// are passed in.

import { decodeMessage, encodeMessage } from './encoding/raft.js';
import { DecodeError } from './encoding/primitives.js';
import type { Command } from './encoding/command.js';
import type { Effect, EngineStatus, Reply } from './encoding/effects.js';
import type { Config, Restored } from './encoding/init.js';
import type { Input } from './encoding/inputs.js';
import type { ConfChange, ConfChangeType, Event } from './encoding/raft.js';
import { CoreError } from './node.js';
import type { Endpoint, Network, NodeId } from './network.js';
import type { NodeStorage } from './storage.js';

/** What a NodeHost needs of a core: RaftNode's init and handle. */
export interface EngineCore {
  /** Starts the engine; throws a CoreError if it cannot. */
  init(config: Config, restored: Restored): void;
  /** Hands over a batch of inputs; throws a CoreError if the core failed. */
  handle(inputs: readonly Input[]): Effect[];
}

/** Creates a core ready for init, such as RaftNode.create with a fresh WASI. */
export type CoreFactory = () => Promise<EngineCore> | EngineCore;

export interface NodeHostOptions {
  config: Config;
  newCore: CoreFactory;
  storage: NodeStorage;
  network: Network;
  /** Called with every status the engine reports. */
  onStatus?: (s: EngineStatus) => void;
  /** Called with every event the engine emits. */
  onEvent?: (e: Event) => void;
  /** Called when the core failed and was recreated from storage. */
  onRestart?: (err: CoreError) => void;
}

/** RequestError rejects a request whose outcome is unknown: the core failed or the host stopped. */
export class RequestError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RequestError';
  }
}

interface Waiter {
  resolve: (r: Reply) => void;
  reject: (e: Error) => void;
  /** Called with each pending (not final) reply, such as "election in progress". */
  onPending?: ((r: Reply) => void) | undefined;
}

/**
 * NodeHost runs one node. Inputs queue up and are handed to the core in
 * batches: whatever arrived while the previous batch's effects were being
 * carried out (a Persist waits for storage) goes in the next one.
 */
export class NodeHost {
  readonly id: NodeId;
  private core: EngineCore;
  private readonly endpoint: Endpoint;
  private pending: Input[] = [];
  private running: Promise<void> | undefined;
  private readonly waiters = new Map<bigint, Waiter>();
  private nextRequest = 1n;
  private stopped = false;
  private lastStatus: EngineStatus | undefined;
  private failure: unknown;
  /** How many times the core failed and was recreated. */
  restarts = 0;

  private constructor(
    private readonly opts: NodeHostOptions,
    core: EngineCore,
  ) {
    this.id = opts.config.raft.id;
    this.core = core;
    this.endpoint = opts.network.attach(this.id, (_from, bytes) => this.receive(bytes));
  }

  /** Starts node config.raft.id from what its storage holds and attaches it to the network. */
  static async start(opts: NodeHostOptions): Promise<NodeHost> {
    const core = await NodeHost.boot(opts, await opts.storage.load());
    return new NodeHost(opts, core);
  }

  private static async boot(opts: NodeHostOptions, restored: Restored): Promise<EngineCore> {
    const core = await opts.newCore();
    core.init(opts.config, restored);
    return core;
  }

  /** The last status the engine reported. */
  get status(): EngineStatus | undefined {
    return this.lastStatus;
  }

  /** Queues n ticks. */
  tick(n = 1): void {
    for (let i = 0; i < n; i++) this.enqueue({ kind: 'tick' });
  }

  /**
   * Proposes cmd (which needs a session: clientID and seq) and resolves with
   * its final reply; onPending, if given, sees each pending reply before.
   */
  propose(command: Command, onPending?: (r: Reply) => void): Promise<Reply> {
    return this.request((requestID) => ({ kind: 'propose', requestID, command }), onPending);
  }

  /** Reads key, linearizably unless stale, and resolves with the final reply; onPending as for propose. */
  read(key: string, stale = false, onPending?: (r: Reply) => void): Promise<Reply> {
    return this.request((requestID) => ({ kind: 'read', requestID, key, stale }), onPending);
  }

  /**
   * Asks the leader (this node should be it) to change the membership, one
   * server at a time: add nodeID as a learner (with addr), promote it, add
   * it as a voter, or remove it. Resolves with the final reply: ok once the
   * change applied on this node, not-leader (with a hint), conflict
   * (another change in progress, or a learner behind: retry) or invalid.
   */
  changeMembers(type: ConfChangeType, nodeID: NodeId, addr = '', onPending?: (r: Reply) => void): Promise<Reply> {
    const change: ConfChange = { type, nodeID, addr, members: [] };
    return this.request((requestID) => ({ kind: 'changeMembers', requestID, change }), onPending);
  }

  /** Asks the cluster to hand leadership to node to. */
  transfer(to: NodeId): void {
    this.enqueue({ kind: 'transfer', to });
  }

  /** Resolves once every queued input has been handled and its effects carried out. */
  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running;
    if (this.failure !== undefined) throw this.failure;
  }

  /** Whether inputs are waiting or being handled. */
  get busy(): boolean {
    return this.running !== undefined || this.pending.length > 0;
  }

  /**
   * Stops the node as a crash would: detaches it from the network, drops
   * the core and closes storage, without waiting for queued inputs. Waiting
   * requests are rejected with a RequestError.
   */
  kill(): void {
    this.stopped = true;
    this.pending = [];
    this.endpoint.close();
    this.rejectAll(new RequestError(`node ${this.id} stopped`));
    this.opts.storage.close();
  }

  private request(make: (id: bigint) => Input, onPending?: (r: Reply) => void): Promise<Reply> {
    if (this.stopped) return Promise.reject(new RequestError(`node ${this.id} stopped`));
    const id = this.nextRequest++;
    const p = new Promise<Reply>((resolve, reject) => this.waiters.set(id, { resolve, reject, onPending }));
    this.enqueue(make(id));
    return p;
  }

  private receive(bytes: Uint8Array): void {
    // A message that does not decode would make the whole batch undecodable
    // and fail the core: drop it here instead.
    let message;
    try {
      message = decodeMessage(bytes);
    } catch (err) {
      if (err instanceof DecodeError) return;
      throw err;
    }
    if (message.to !== this.id) return;
    this.enqueue({ kind: 'receive', message, encoded: bytes });
  }

  private enqueue(x: Input): void {
    if (this.stopped) return;
    this.pending.push(x);
    this.kick();
  }

  /** Starts the drain loop unless it runs; restarts it for inputs that came as it ended. */
  private kick(): void {
    if (this.running !== undefined) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.pending.length > 0 && !this.stopped) this.kick();
    });
  }

  private async drain(): Promise<void> {
    // Let synchronous callers queue more inputs before the first batch.
    await Promise.resolve();
    try {
      while (this.pending.length > 0 && !this.stopped) {
        const batch = this.pending;
        this.pending = [];
        let effects: Effect[];
        try {
          effects = this.core.handle(batch);
        } catch (err) {
          if (!(err instanceof CoreError)) throw err;
          await this.recover(err);
          continue;
        }
        await this.carryOut(effects);
      }
    } catch (err) {
      // Storage failed, or a bug: nothing can go on safely.
      this.failure = err;
      this.kill();
    }
  }

  private async carryOut(effects: Effect[]): Promise<void> {
    let ack: Input | undefined;
    for (const e of effects) {
      if (this.stopped) return;
      switch (e.kind) {
        case 'persist': {
          await this.opts.storage.persist(e);
          const last = e.entries[e.entries.length - 1];
          if (last !== undefined) ack = { kind: 'storageAck', index: last.index, term: last.term };
          break;
        }
        case 'saveSnapshot':
          // Durable before anything that follows: a later Send may tell the
          // leader that entries the snapshot covers are stored.
          await this.opts.storage.saveSnapshot(e.snapshot, e.keepLog);
          break;
        case 'send':
          // The decoder copied the message's bytes from the core's output.
          this.endpoint.send(e.message.to, e.encoded ?? encodeMessage(e.message));
          break;
        case 'reply': {
          if (e.code === 1) {
            // Pending: the final reply follows.
            this.waiters.get(e.requestID)?.onPending?.(e);
            break;
          }
          const w = this.waiters.get(e.requestID);
          this.waiters.delete(e.requestID);
          w?.resolve(e);
          break;
        }
        case 'emit':
          this.opts.onEvent?.(e.event);
          break;
        case 'statusReport':
          this.lastStatus = e.status;
          this.opts.onStatus?.(e.status);
          break;
      }
    }
    if (ack !== undefined && !this.stopped) this.pending.unshift(ack);
  }

  /** Replaces a failed core with a new one restored from storage. */
  private async recover(err: CoreError): Promise<void> {
    this.restarts++;
    this.rejectAll(new RequestError(`node ${this.id}: core failed, request outcome unknown: ${err.message}`, { cause: err }));
    this.core = await NodeHost.boot(this.opts, await this.opts.storage.load());
    this.opts.onRestart?.(err);
  }

  private rejectAll(err: Error): void {
    for (const w of this.waiters.values()) w.reject(err);
    this.waiters.clear();
  }
}
