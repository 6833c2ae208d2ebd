// The init record that starts an engine: the mirror of Go's raft.Config,
// engine.Config, engine.Restored and abi/init.go.

import { MAX_SNAPSHOT_BYTES } from './effects.js';
import { ABI_VERSION } from './inputs.js';
import { Reader, Writer } from './primitives.js';
import {
  readEntries,
  readHardState,
  readMembers,
  readSnapshotMeta,
  writeEntries,
  writeHardState,
  writeMembers,
  writeSnapshotMeta,
  zeroHardState,
  type Entry,
  type HardState,
  type Member,
  type Snapshot,
} from './raft.js';

/** The most entries in an init record (abi.MaxInitEntries). */
export const MAX_INIT_ENTRIES = 1 << 24;

/** Configures the protocol (raft.Config). Zero selects the engine's default. */
export interface RaftConfig {
  /** This node's id: non-zero and a member. */
  id: bigint;
  /**
   * The initial configuration: either voters and learners, or members
   * (with addresses), not both. A snapshot's configuration, or a committed
   * change in the log, replaces it.
   */
  voters: bigint[];
  learners: bigint[];
  members: Member[];
  /** Base election timeout in ticks (default 10). */
  electionTicks: bigint;
  /** Heartbeat interval in ticks (default 1). */
  heartbeatTicks: bigint;
  /** Seeds the election jitter: same seed, same inputs, same outputs. */
  seed: bigint;
  disablePreVote: boolean;
  disableCheckQuorum: boolean;
  maxInflightMsgs: bigint;
  maxInflightBytes: bigint;
  maxMsgBytes: bigint;
  /** The size of one snapshot chunk (default 256 KiB). */
  maxSnapshotChunkBytes: bigint;
  /** The largest snapshot a follower accepts (default 1 GiB). */
  maxSnapshotBytes: bigint;
}

/** Configures an engine (engine.Config). */
export interface Config {
  raft: RaftConfig;
  /** Default: 5 election timeouts. */
  requestTimeoutTicks: bigint;
  /** Default 4096. */
  maxPending: bigint;
  /** How far the log grows past the last snapshot before the next (default 10000). */
  snapshotEntries: bigint;
  /** Entries kept before a snapshot (default snapshotEntries/10; below snapshotEntries). */
  snapshotRetain: bigint;
}

/** What a host recovered from its storage (engine.Restored); zero for a new node. */
export interface Restored {
  hardState: HardState;
  /** The newest snapshot; absent if none. */
  snapshot?: Snapshot;
  /** Every entry of the log after the snapshot, in index order. */
  entries: Entry[];
}

/**
 * Returns the config of node id among voters with the given seed, every
 * other field zero (the engine's defaults) unless given in raft or rest.
 */
export function newConfig(
  id: bigint,
  voters: readonly bigint[],
  seed: bigint,
  raft: Partial<RaftConfig> = {},
  rest: Partial<Omit<Config, 'raft'>> = {},
): Config {
  return {
    raft: {
      id,
      voters: [...voters],
      learners: [],
      members: [],
      electionTicks: 0n,
      heartbeatTicks: 0n,
      seed,
      disablePreVote: false,
      disableCheckQuorum: false,
      maxInflightMsgs: 0n,
      maxInflightBytes: 0n,
      maxMsgBytes: 0n,
      maxSnapshotChunkBytes: 0n,
      maxSnapshotBytes: 0n,
      ...raft,
    },
    requestTimeoutTicks: 0n,
    maxPending: 0n,
    snapshotEntries: 0n,
    snapshotRetain: 0n,
    ...rest,
  };
}

/** Returns the Restored of a node that never ran. */
export function emptyRestored(): Restored {
  return { hardState: zeroHardState(), entries: [] };
}

/**
 * Returns the members an init record holds for rc: rc.members or, when
 * that is empty, rc.voters and rc.learners (as learners) sorted by id.
 */
export function initMembers(rc: RaftConfig): Member[] {
  if (rc.members.length > 0) return rc.members;
  const ms: Member[] = [
    ...rc.voters.map((id) => ({ id, learner: false, addr: '' })),
    ...rc.learners.map((id) => ({ id, learner: true, addr: '' })),
  ];
  return ms.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Writes an init record (abi.AppendInit). */
export function writeInit(w: Writer, cfg: Config, rs: Restored): void {
  const rc = cfg.raft;
  w.u8(ABI_VERSION);
  w.uvarint(rc.id);
  writeMembers(w, initMembers(rc));
  w.int(rc.electionTicks);
  w.int(rc.heartbeatTicks);
  w.uvarint(rc.seed);
  w.bool(rc.disablePreVote);
  w.bool(rc.disableCheckQuorum);
  w.int(rc.maxInflightMsgs);
  w.uvarint(rc.maxInflightBytes);
  w.uvarint(rc.maxMsgBytes);
  w.uvarint(rc.maxSnapshotChunkBytes);
  w.uvarint(rc.maxSnapshotBytes);
  w.int(cfg.requestTimeoutTicks);
  w.int(cfg.maxPending);
  w.int(cfg.snapshotEntries);
  w.int(cfg.snapshotRetain);
  writeHardState(w, rs.hardState);
  w.bool(rs.snapshot !== undefined);
  if (rs.snapshot !== undefined) {
    writeSnapshotMeta(w, rs.snapshot.meta);
    w.bytesField(rs.snapshot.data);
  }
  writeEntries(w, rs.entries);
}

/** Returns the encoding of an init record. */
export function encodeInit(cfg: Config, rs: Restored): Uint8Array {
  const w = new Writer(64 + (rs.snapshot?.data.length ?? 0) + rs.entries.reduce((n, e) => n + 8 + e.data.length, 0));
  writeInit(w, cfg, rs);
  return w.bytes();
}

/**
 * Decodes an init record that encodeInit encoded, which must fill b
 * exactly (abi.DecodeInit). It does not validate the configuration: the
 * engine does. The members decode into raft.members, leaving voters and
 * learners empty.
 */
export function decodeInit(b: Uint8Array): { config: Config; restored: Restored } {
  const r = new Reader(b, 'abi: init');
  r.version(ABI_VERSION);
  const id = r.uvarint();
  const members = readMembers(r);
  const raft: RaftConfig = {
    id,
    voters: [],
    learners: [],
    members,
    electionTicks: r.int(),
    heartbeatTicks: r.int(),
    seed: r.uvarint(),
    disablePreVote: r.bool(),
    disableCheckQuorum: r.bool(),
    maxInflightMsgs: r.int(),
    maxInflightBytes: r.uvarint(),
    maxMsgBytes: r.uvarint(),
    maxSnapshotChunkBytes: r.uvarint(),
    maxSnapshotBytes: r.uvarint(),
  };
  const config: Config = {
    raft,
    requestTimeoutTicks: r.int(),
    maxPending: r.int(),
    snapshotEntries: r.int(),
    snapshotRetain: r.int(),
  };
  const hardState = readHardState(r);
  let snapshot: Snapshot | undefined;
  if (r.bool()) {
    const meta = readSnapshotMeta(r);
    snapshot = { meta, data: r.bytes('snapshot data', MAX_SNAPSHOT_BYTES) };
  }
  const restored: Restored = { hardState, entries: readEntries(r, MAX_INIT_ENTRIES) };
  if (snapshot !== undefined) restored.snapshot = snapshot;
  r.done();
  return { config, restored };
}
