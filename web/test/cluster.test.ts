// Three RaftNodes running raft.wasm, each with its own IndexedDB database
// (fake-indexeddb), over the in-memory network: elections, writes with
// sessions, a node killed and restarted from its storage, logs that agree;
// a node that catches up by snapshot after the log was compacted past it;
// a fourth node that joins as a learner, is promoted and removed.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';

import {
  ConfChangeType,
  CoreError,
  EventKind,
  IndexedDBStorage,
  MemoryNetwork,
  NodeHost,
  Op,
  RaftNode,
  ReplyCode,
  Role,
  newCommand,
  newConfig,
  type EngineCore,
  type Entry,
  type Event,
  type Member,
  type Reply,
  type Restored,
} from '../shim/index.js';
import { nodeWasi, raftWasm } from './wasm.js';

const VOTERS = [1n, 2n, 3n];

/** A cluster of NodeHosts over one MemoryNetwork and one (fake) IndexedDB. */
class Cluster {
  readonly net = new MemoryNetwork();
  readonly idb = new IDBFactory();
  readonly hosts = new Map<bigint, NodeHost>();
  /** Wraps each new core, to inject failures. */
  wrap: (id: bigint, core: EngineCore) => EngineCore = (_id, core) => core;
  /** Every event each node emitted, across restarts. */
  readonly events = new Map<bigint, Event[]>();

  /** snapshotEntries: the engine's SnapshotEntries (0: its default). */
  constructor(readonly snapshotEntries = 0n) {}

  dbName(id: bigint): string {
    return `wraft-node-${id}`;
  }

  /**
   * Starts node id from whatever its database holds, with the initial
   * configuration VOTERS, or members for a node that joins a running
   * cluster.
   */
  async start(id: bigint, members: Member[] = []): Promise<NodeHost> {
    const storage = await IndexedDBStorage.open(this.dbName(id), this.idb, IDBKeyRange);
    const module = await raftWasm();
    const host = await NodeHost.start({
      config: newConfig(
        id,
        members.length > 0 ? [] : VOTERS,
        1000n + id,
        { electionTicks: 10n, heartbeatTicks: 1n, members },
        { snapshotEntries: this.snapshotEntries },
      ),
      newCore: async () => this.wrap(id, await RaftNode.create(module, nodeWasi())),
      storage,
      network: this.net,
      onEvent: (e) => {
        const es = this.events.get(id) ?? [];
        es.push(e);
        this.events.set(id, es);
      },
    });
    this.hosts.set(id, host);
    return host;
  }

  /** Crashes node id: its instance is dropped, its database stays. */
  kill(id: bigint): void {
    this.host(id).kill();
    this.hosts.delete(id);
  }

  host(id: bigint): NodeHost {
    const h = this.hosts.get(id);
    assert.ok(h, `node ${id} is not running`);
    return h;
  }

  /** Delivers every message and waits until no node has work left. */
  async settle(): Promise<void> {
    for (let i = 0; i < 10_000; i++) {
      this.net.deliverAll();
      await Promise.all([...this.hosts.values()].map((h) => h.idle()));
      if (this.net.pending === 0 && [...this.hosts.values()].every((h) => !h.busy)) return;
    }
    assert.fail('the cluster does not settle');
  }

  /** Ticks every running node once and settles. */
  async round(): Promise<void> {
    for (const h of this.hosts.values()) h.tick();
    await this.settle();
  }

  /** Runs rounds until cond holds; fails after max rounds. */
  async until(what: string, cond: () => boolean, max = 300): Promise<void> {
    for (let i = 0; i < max; i++) {
      if (cond()) return;
      await this.round();
    }
    assert.fail(`after ${max} rounds: ${what}`);
  }

  /** The running node that leads in the highest term, if any. */
  leader(): NodeHost | undefined {
    let best: NodeHost | undefined;
    for (const h of this.hosts.values()) {
      const s = h.status;
      if (s?.role === Role.Leader && (best === undefined || s.term > best.status!.term)) best = h;
    }
    return best;
  }

  async electLeader(): Promise<NodeHost> {
    await this.until('a leader is elected', () => {
      const l = this.leader();
      // Every running node follows it.
      return l !== undefined && [...this.hosts.values()].every((h) => h.status?.leader === l.id);
    });
    return this.leader()!;
  }

  /** Waits for a request's final reply, running rounds meanwhile. */
  async await(p: Promise<Reply>, max = 200): Promise<Reply> {
    let done: Reply | undefined;
    let failed: unknown;
    p.then(
      (r) => (done = r),
      (e) => (failed = e ?? new Error('rejected')),
    );
    await this.settle();
    for (let i = 0; i < max && done === undefined && failed === undefined; i++) await this.round();
    if (failed !== undefined) throw failed;
    assert.ok(done, `no reply after ${max} rounds`);
    return done;
  }

  /** The log stored in node id's database. */
  async storedLog(id: bigint): Promise<Entry[]> {
    return (await this.stored(id)).entries;
  }

  /** What node id's database holds. */
  async stored(id: bigint): Promise<Restored> {
    const s = await IndexedDBStorage.open(this.dbName(id), this.idb, IDBKeyRange);
    try {
      return await s.load();
    } finally {
      s.close();
    }
  }

  /** How many events of kind node id emitted. */
  eventCount(id: bigint, kind: number): number {
    return (this.events.get(id) ?? []).filter((e) => e.kind === kind).length;
  }
}

/** A client session: one clientID, sequence numbers from 1. */
class Session {
  private seq = 0n;
  constructor(readonly clientID: bigint) {}
  set(key: string, value: string) {
    return newCommand(Op.Set, key, { clientID: this.clientID, seq: ++this.seq, value: new TextEncoder().encode(value) });
  }
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

function describeLog(es: Entry[]): string[] {
  return es.map((e) => `${e.index}@${e.term}/${e.type}/${Buffer.from(e.data).toString('hex')}`);
}

async function write(c: Cluster, via: NodeHost, s: Session, key: string, value: string, minAcks: bigint, voters = 3n): Promise<Reply> {
  const r = await c.await(via.propose(s.set(key, value)));
  assert.equal(r.code, ReplyCode.OK, `write ${key}=${value} via node ${via.id}: code ${r.code} ${r.error}`);
  assert.ok(r.ok, r.error);
  assert.ok(r.index > 0n);
  assert.ok(r.acks >= minAcks || via.status?.role !== Role.Leader, `acks ${r.acks} < ${minAcks}`);
  assert.equal(r.voters, voters);
  return r;
}

/** Asks the leader for a membership change until it is not refused as a conflict (a change in progress, a learner behind). */
async function change(c: Cluster, type: ConfChangeType, id: bigint): Promise<Reply> {
  for (let i = 0; i < 50; i++) {
    await c.until('a leader', () => c.leader() !== undefined);
    const leader = c.leader()!;
    const r = await c.await(leader.changeMembers(type, id));
    if (r.code !== ReplyCode.Conflict && r.code !== ReplyCode.NotLeader) return r;
    for (let j = 0; j < 5; j++) await c.round();
  }
  assert.fail(`membership change ${type} of node ${id} refused 50 times`);
}

/** Checks that every node stores the same log and has applied all of it. */
async function checkLogsAgree(c: Cluster): Promise<void> {
  const logs = await Promise.all(VOTERS.map((id) => c.storedLog(id)));
  const want = describeLog(logs[0]!);
  for (let i = 1; i < logs.length; i++) assert.deepEqual(describeLog(logs[i]!), want, `node ${VOTERS[i]}'s log`);
  const last = logs[0]![logs[0]!.length - 1]!.index;
  for (const h of c.hosts.values()) {
    assert.equal(h.status?.commit, last, `node ${h.id} commit`);
    assert.equal(h.status?.applied, last, `node ${h.id} applied`);
  }
}

describe('three raft.wasm nodes with IndexedDB storage', () => {
  it('elect, commit, survive a crash and catch the restarted node up', async () => {
    const c = new Cluster();
    for (const id of VOTERS) await c.start(id);
    const leader = await c.electLeader();
    const alice = new Session(7n);

    for (let i = 1; i <= 5; i++) await write(c, leader, alice, `k${i}`, `v${i}`, 2n);
    // Through a follower, which forwards to the leader.
    const follower = [...c.hosts.values()].find((h) => h !== leader)!;
    await write(c, follower, alice, 'via-follower', 'yes', 0n);

    // Crash the other follower.
    const victim = [...c.hosts.values()].find((h) => h !== leader && h !== follower)!.id;
    const before = (await c.storedLog(victim)).length;
    c.kill(victim);
    let lastIndex = 0n;
    for (let i = 6; i <= 10; i++) lastIndex = (await write(c, leader, alice, `k${i}`, `v${i}`, 2n)).index;
    await write(c, leader, alice, 'k1', 'overwritten', 2n);
    assert.equal((await c.storedLog(victim)).length, before, 'a dead node stored nothing');

    // Restart it from its database: it catches up.
    const back = await c.start(victim);
    assert.equal(back.status, undefined);
    await c.until('the restarted node catches up', () => (back.status?.applied ?? 0n) >= lastIndex + 1n);
    await c.settle();
    assert.ok((await c.storedLog(victim)).length > before);
    await checkLogsAgree(c);

    // Its state machine holds every write, in order.
    const r = await c.await(back.read('k1'));
    assert.equal(r.code, ReplyCode.OK, r.error);
    assert.equal(text(r.value), 'overwritten');
    const stale = await c.await(back.read('k10', true));
    assert.equal(text(stale.value), 'v10');
    assert.equal(text((await c.await(back.read('via-follower', true))).value), 'yes');
  });

  it('elect a new leader when the leader dies, and bring the old one back', async () => {
    const c = new Cluster();
    for (const id of VOTERS) await c.start(id);
    const first = await c.electLeader();
    const bob = new Session(8n);
    await write(c, first, bob, 'a', '1', 2n);

    c.kill(first.id);
    const second = await c.electLeader();
    assert.notEqual(second.id, first.id);
    assert.ok(second.status!.term > first.status!.term);
    await write(c, second, bob, 'a', '2', 2n);

    const old = await c.start(first.id);
    await c.until('the old leader follows the new one', () => old.status?.leader === second.id && old.status.applied === second.status!.applied);
    await checkLogsAgree(c);
    assert.equal(text((await c.await(old.read('a'))).value), '2');
  });

  it('recreate a failed core from storage and go on', async () => {
    const c = new Cluster();
    // The next batch of node failNext fails, as a poisoned instance would.
    let failNext: bigint | undefined;
    c.wrap = (id, core) => ({
      init: (config, restored) => core.init(config, restored),
      handle: (inputs) => {
        if (failNext === id) {
          failNext = undefined;
          throw new CoreError('injected failure');
        }
        return core.handle(inputs);
      },
    });
    for (const id of VOTERS) await c.start(id);
    const leader = await c.electLeader();
    const follower = [...c.hosts.values()].find((h) => h !== leader)!;
    const carol = new Session(9n);
    for (let i = 0; i < 3; i++) await write(c, leader, carol, `x${i}`, `${i}`, 2n);
    failNext = follower.id;
    for (let i = 3; i < 6; i++) await write(c, leader, carol, `x${i}`, `${i}`, 2n);
    assert.equal(follower.restarts, 1);
    await write(c, leader, carol, 'after', 'restart', 2n);
    await c.until('the follower catches up', () => follower.status?.applied === leader.status?.applied);
    await checkLogsAgree(c);
    // A request waiting on a core that fails is rejected: its outcome is unknown.
    const p = leader.read('x0');
    failNext = leader.id;
    await assert.rejects(c.await(p), /outcome unknown/);
    assert.equal(leader.restarts, 1);
  });
});

describe('snapshots and membership changes', () => {
  it('compact the log, and catch a node restarted after the compaction up by snapshot', async () => {
    const c = new Cluster(20n);
    for (const id of VOTERS) await c.start(id);
    const leader = await c.electLeader();
    const dave = new Session(10n);
    for (let i = 0; i < 5; i++) await write(c, leader, dave, `s${i}`, `before-${i}`, 2n);
    const victim = [...c.hosts.values()].find((h) => h !== leader)!.id;
    await c.until('the victim holds every write', () => c.host(victim).status?.applied === leader.status?.applied);
    const had = (await c.storedLog(victim)).at(-1)!.index;
    c.kill(victim);

    // Write past the leader's first snapshot while it is down. (A leader
    // snapshots at four times SnapshotEntries, at a phase set by its id:
    // by entry 48 at the latest here.)
    let last = 0n;
    for (let i = 0; i < 60; i++) last = (await write(c, leader, dave, `s${i % 10}`, `v${i}`, 2n)).index;
    await c.settle();
    const ls = leader.status!;
    assert.ok(ls.snapshot > had, `the leader's snapshot ${ls.snapshot} is not past the victim's log ${had}`);
    assert.ok(ls.firstIndex > had + 1n, `the leader's log still starts at ${ls.firstIndex}`);
    assert.ok(c.eventCount(leader.id, EventKind.LogCompacted) >= 1, 'the leader never compacted');
    // The leader's storage dropped what its snapshot covers.
    const stored = await c.stored(leader.id);
    assert.ok(stored.snapshot !== undefined && stored.snapshot.meta.index >= ls.snapshot - 0n);
    assert.ok(stored.entries.every((e) => e.index > stored.snapshot!.meta.index));
    assert.deepEqual(
      stored.snapshot.meta.members.map((m) => [m.id, m.learner]),
      VOTERS.map((id) => [id, false]),
    );

    // Restarted, it can only catch up by snapshot.
    const back = await c.start(victim);
    await c.until('the restarted node catches up', () => (back.status?.applied ?? 0n) >= last);
    await c.settle();
    assert.ok(c.eventCount(victim, EventKind.SnapshotInstalled) >= 1, 'no snapshot-installed event');
    assert.ok(c.eventCount(leader.id, EventKind.SnapshotSending) >= 1, 'no snapshot-sending event');
    assert.ok(back.status!.snapshot > had, `the victim's snapshot index ${back.status!.snapshot}`);
    const victimStored = await c.stored(victim);
    assert.ok(victimStored.snapshot !== undefined, 'the installed snapshot is not stored');
    assert.ok(victimStored.entries.every((e) => e.index > victimStored.snapshot!.meta.index));

    // Its state machine equals the leader's, key by key.
    for (let k = 0; k < 10; k++) {
      const want = text((await c.await(leader.read(`s${k}`, true))).value);
      assert.equal(text((await c.await(back.read(`s${k}`, true))).value), want, `key s${k}`);
      assert.match(want, /^v\d+$/);
    }

    // Restarted again, it restores from its own snapshot and the entries after it.
    c.kill(victim);
    await write(c, leader, dave, 'after', 'restart', 2n);
    const again = await c.start(victim);
    await c.until('it applies everything again', () => again.status?.applied === leader.status?.applied);
    assert.ok(again.status!.snapshot >= victimStored.snapshot.meta.index);
    assert.equal(text((await c.await(again.read('after', true))).value), 'restart');
    assert.equal(text((await c.await(again.read('s9', true))).value), text((await c.await(leader.read('s9', true))).value));
  });

  it('add a fourth node as a learner, promote it, write with four voters, remove it', async () => {
    const c = new Cluster(20n);
    for (const id of VOTERS) await c.start(id);
    let leader = await c.electLeader();
    const erin = new Session(11n);
    // Past a snapshot, so that the new node catches up by snapshot.
    for (let i = 0; i < 30; i++) await write(c, leader, erin, `m${i % 5}`, `v${i}`, 2n);

    // Node 4 starts with the current configuration and itself as a learner, and an empty log.
    const members = [...leader.status!.members, { id: 4n, learner: true, addr: '' }];
    const four = await c.start(4n, members);
    const added = await change(c, ConfChangeType.AddLearner, 4n);
    assert.equal(added.code, ReplyCode.OK, added.error);
    leader = await c.electLeader();
    assert.deepEqual(
      leader.status!.members.map((m) => [m.id, m.learner]),
      [
        [1n, false],
        [2n, false],
        [3n, false],
        [4n, true],
      ],
    );
    assert.equal(leader.status!.voters.length, 3);
    assert.equal(leader.status!.progress.find((p) => p.id === 4n)?.learner, true);
    await c.until('the learner catches up', () => four.status !== undefined && four.status.applied >= leader.status!.commit);
    assert.ok(c.eventCount(4n, EventKind.SnapshotInstalled) >= 1, 'the learner did not install a snapshot');
    assert.equal(four.status!.role, Role.Follower);

    const promoted = await change(c, ConfChangeType.Promote, 4n);
    assert.equal(promoted.code, ReplyCode.OK, promoted.error);
    leader = await c.electLeader();
    assert.deepEqual(leader.status!.voters, [1n, 2n, 3n, 4n]);
    assert.ok(c.eventCount(leader.id, EventKind.MembershipChanged) >= 2);
    await write(c, leader, erin, 'four', 'voters', 3n, 4n);
    await c.until('node 4 applies it', () => four.status?.applied === leader.status?.applied);
    assert.equal(text((await c.await(four.read('four', true))).value), 'voters');

    // Remove the leader itself: it steps down, the other three go on.
    const old = leader.id;
    const removed = await change(c, ConfChangeType.Remove, old);
    assert.equal(removed.code, ReplyCode.OK, removed.error);
    c.kill(old);
    leader = await c.electLeader();
    assert.notEqual(leader.id, old);
    assert.equal(leader.status!.voters.length, 3);
    assert.ok(!leader.status!.voters.includes(old));
    await write(c, leader, erin, 'after', 'remove', 2n, 3n);
    // A removed member's status does not count: three voters, three alive.
    assert.equal(leader.status!.alive, 3n);
  });
});
