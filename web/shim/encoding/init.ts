// The init record that starts an engine: the mirror of Go's raft.Config,
// engine.Config, engine.Restored and abi/init.go.

import { ABI_VERSION } from './inputs.js';
import { Reader, Writer } from './primitives.js';
import {
  MAX_VOTERS,
  readEntries,
  readHardState,
  writeEntries,
  writeHardState,
  zeroHardState,
  type Entry,
  type HardState,
} from './raft.js';

/** The most entries in an init record (abi.MaxInitEntries). */
export const MAX_INIT_ENTRIES = 1 << 24;

/** Configures the protocol (raft.Config). Zero selects the engine's default. */
export interface RaftConfig {
  /** This node's id: non-zero and one of voters. */
  id: bigint;
  voters: bigint[];
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
}

/** Configures an engine (engine.Config). */
export interface Config {
  raft: RaftConfig;
  /** Default: 5 election timeouts. */
  requestTimeoutTicks: bigint;
  /** Default 4096. */
  maxPending: bigint;
}

/** What a host recovered from its storage (engine.Restored); zero for a new node. */
export interface Restored {
  hardState: HardState;
  /** Every entry of the log, in index order. */
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
      electionTicks: 0n,
      heartbeatTicks: 0n,
      seed,
      disablePreVote: false,
      disableCheckQuorum: false,
      maxInflightMsgs: 0n,
      maxInflightBytes: 0n,
      maxMsgBytes: 0n,
      ...raft,
    },
    requestTimeoutTicks: 0n,
    maxPending: 0n,
    ...rest,
  };
}

/** Returns the Restored of a node that never ran. */
export function emptyRestored(): Restored {
  return { hardState: zeroHardState(), entries: [] };
}

/** Writes an init record (abi.AppendInit). */
export function writeInit(w: Writer, cfg: Config, rs: Restored): void {
  const rc = cfg.raft;
  w.u8(ABI_VERSION);
  w.uvarint(rc.id);
  w.count(rc.voters.length);
  for (const v of rc.voters) w.uvarint(v);
  w.int(rc.electionTicks);
  w.int(rc.heartbeatTicks);
  w.uvarint(rc.seed);
  w.bool(rc.disablePreVote);
  w.bool(rc.disableCheckQuorum);
  w.int(rc.maxInflightMsgs);
  w.uvarint(rc.maxInflightBytes);
  w.uvarint(rc.maxMsgBytes);
  w.int(cfg.requestTimeoutTicks);
  w.int(cfg.maxPending);
  writeHardState(w, rs.hardState);
  writeEntries(w, rs.entries);
}

/** Returns the encoding of an init record. */
export function encodeInit(cfg: Config, rs: Restored): Uint8Array {
  const w = new Writer(64 + rs.entries.reduce((n, e) => n + 8 + e.data.length, 0));
  writeInit(w, cfg, rs);
  return w.bytes();
}

/**
 * Decodes an init record that encodeInit encoded, which must fill b
 * exactly (abi.DecodeInit). It does not validate the configuration: the
 * engine does.
 */
export function decodeInit(b: Uint8Array): { config: Config; restored: Restored } {
  const r = new Reader(b, 'abi: init');
  r.version(ABI_VERSION);
  const id = r.uvarint();
  const voters: bigint[] = [];
  for (let n = r.count('voters', MAX_VOTERS, 1); n > 0; n--) voters.push(r.uvarint());
  const raft: RaftConfig = {
    id,
    voters,
    electionTicks: r.int(),
    heartbeatTicks: r.int(),
    seed: r.uvarint(),
    disablePreVote: r.bool(),
    disableCheckQuorum: r.bool(),
    maxInflightMsgs: r.int(),
    maxInflightBytes: r.uvarint(),
    maxMsgBytes: r.uvarint(),
  };
  const config: Config = { raft, requestTimeoutTicks: r.int(), maxPending: r.int() };
  const restored: Restored = { hardState: readHardState(r), entries: readEntries(r, MAX_INIT_ENTRIES) };
  r.done();
  return { config, restored };
}
