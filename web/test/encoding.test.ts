// The TypeScript mirror of the encoding against the shared vectors
// (testdata/vectors/abi.json) and against Go's decoders' error messages.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import {
  DecodeError,
  InvalidError,
  MAX_INT,
  MAX_U64,
  MIN_INT,
  Reader,
  TooLargeError,
  TruncatedError,
  VersionError,
  Writer,
  decodeCommand,
  decodeEffects,
  decodeInit,
  decodeInputs,
  decodeMessage,
  decodeResult,
  encodeCommand,
  encodeEffects,
  encodeInit,
  encodeInputs,
  encodeMessage,
  encodeResult,
  emptyRestored,
  eventKindName,
  newCommand,
  newConfig,
  newMessage,
  progressStateName,
  replyCodeName,
  MessageType,
  Op,
} from '../shim/encoding/index.js';
import {
  describeCommand,
  describeEffect,
  describeInit,
  describeInput,
  describeMessage,
  hex,
  parseCommand,
  parseEffect,
  parseInit,
  parseInput,
  parseMessage,
  unhex,
  type Json,
} from './describe.js';
import { repoPath } from './paths.js';

interface Vector {
  name: string;
  kind: 'inputs' | 'effects' | 'init' | 'message' | 'command';
  hex: string;
  value: Json;
}

const vectors: Vector[] = JSON.parse(readFileSync(repoPath('testdata', 'vectors', 'abi.json'), 'utf8'));

/** Decodes b as kind and returns its JSON description. */
function decodeAs(kind: Vector['kind'], b: Uint8Array): Json {
  switch (kind) {
    case 'inputs':
      return decodeInputs(b).map(describeInput);
    case 'effects':
      return decodeEffects(b).map(describeEffect);
    case 'init': {
      const { config, restored } = decodeInit(b);
      return describeInit(config, restored);
    }
    case 'message':
      return describeMessage(decodeMessage(b));
    case 'command':
      return describeCommand(decodeCommand(b));
  }
}

/** Encodes a JSON description of kind. */
function encodeAs(kind: Vector['kind'], v: Json): Uint8Array {
  switch (kind) {
    case 'inputs':
      return encodeInputs((v as Json[]).map(parseInput));
    case 'effects':
      return encodeEffects((v as Json[]).map(parseEffect));
    case 'init': {
      const { config, restored } = parseInit(v);
      return encodeInit(config, restored);
    }
    case 'message':
      return encodeMessage(parseMessage(v));
    case 'command':
      return encodeCommand(parseCommand(v));
  }
}

/** Decodes and re-encodes b as kind, through the decoded values themselves. */
function roundTrip(kind: Vector['kind'], b: Uint8Array): Uint8Array {
  switch (kind) {
    case 'inputs':
      return encodeInputs(decodeInputs(b));
    case 'effects':
      return encodeEffects(decodeEffects(b));
    case 'init': {
      const { config, restored } = decodeInit(b);
      return encodeInit(config, restored);
    }
    case 'message':
      return encodeMessage(decodeMessage(b));
    case 'command':
      return encodeCommand(decodeCommand(b));
  }
}

describe('abi.json vectors', () => {
  it('cover every kind', () => {
    assert.ok(vectors.length >= 60, `only ${vectors.length} vectors`);
    assert.deepEqual(new Set(vectors.map((v) => v.kind)), new Set(['inputs', 'effects', 'init', 'message', 'command']));
  });

  for (const v of vectors) {
    it(v.name, () => {
      const b = unhex(v.hex);
      assert.deepStrictEqual(decodeAs(v.kind, b), v.value, 'decoded value');
      assert.equal(hex(encodeAs(v.kind, v.value)), v.hex, 'encoding of the described value');
      assert.equal(hex(roundTrip(v.kind, b)), v.hex, 'decode then encode');
    });
  }

  it('carry each Send and Receive message bytes untouched', () => {
    let seen = 0;
    for (const v of vectors) {
      const b = unhex(v.hex);
      const items = v.kind === 'inputs' ? decodeInputs(b) : v.kind === 'effects' ? decodeEffects(b) : [];
      for (const x of items) {
        if (x.kind !== 'send' && x.kind !== 'receive') continue;
        assert.ok(x.encoded, `${v.name}: no encoded bytes`);
        assert.equal(hex(x.encoded), hex(encodeMessage(x.message)));
        // A Receive built from those bytes encodes them verbatim.
        const again = encodeInputs([{ kind: 'receive', message: x.message, encoded: x.encoded }]);
        assert.equal(hex(again), hex(encodeInputs([{ kind: 'receive', message: x.message }])));
        seen++;
      }
    }
    assert.ok(seen >= 3);
  });

  it('refuse every truncation with a TruncatedError', () => {
    for (const v of vectors) {
      const b = unhex(v.hex);
      for (let n = 0; n < b.length; n++) {
        assert.throws(() => decodeAs(v.kind, b.subarray(0, n)), TruncatedError, `${v.name} cut to ${n} bytes`);
      }
    }
  });

  it('refuse a trailing byte with an InvalidError', () => {
    for (const v of vectors) {
      const b = new Uint8Array([...unhex(v.hex), 0]);
      assert.throws(() => decodeAs(v.kind, b), InvalidError, v.name);
    }
  });

  it('decode mutated inputs canonically or throw only DecodeErrors', () => {
    // splitmix64, for reproducible mutations.
    let state = 0x5eedn;
    const next = (): bigint => {
      state = (state + 0x9e3779b97f4a7c15n) & MAX_U64;
      let z = state;
      z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MAX_U64;
      z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MAX_U64;
      return z ^ (z >> 31n);
    };
    let decoded = 0;
    let refused = 0;
    for (const v of vectors) {
      const orig = unhex(v.hex);
      for (let i = 0; i < 200; i++) {
        const b = orig.slice();
        const flips = 1 + Number(next() % 3n);
        for (let f = 0; f < flips; f++) b[Number(next() % BigInt(b.length))] = Number(next() & 0xffn);
        let desc: Json;
        try {
          desc = decodeAs(v.kind, b);
        } catch (e) {
          assert.ok(e instanceof DecodeError, `${v.name} mutated to ${hex(b)}: ${String(e)}`);
          refused++;
          continue;
        }
        decoded++;
        // Strings holding invalid UTF-8 decode lossily (as U+FFFD); anything else is canonical.
        if (!JSON.stringify(desc).includes('\ufffd')) {
          assert.equal(hex(roundTrip(v.kind, b)), hex(b), `${v.name} mutated to ${hex(b)} re-encodes differently`);
        }
      }
    }
    assert.ok(decoded > 0 && refused > 0, `decoded ${decoded}, refused ${refused}`);
  });
});

describe('decode errors', () => {
  // The messages Go's decoders give for the same bytes.
  const cases: { kind: Vector['kind']; hex: string; err: string; type: typeof DecodeError }[] = [
    { kind: 'message', hex: '0107010203', err: 'wire: message truncated at byte 5', type: TruncatedError },
    { kind: 'message', hex: '0207', err: 'wire: message has version 2 (want 1) at byte 0', type: VersionError },
    { kind: 'message', hex: '0163', err: 'wire: message has unknown message type 99 at byte 1', type: InvalidError },
    { kind: 'message', hex: '010701020300c80100000000ff', err: 'wire: message truncated at byte 12', type: TruncatedError },
    { kind: 'message', hex: '0107010203008001', err: 'wire: message truncated at byte 8', type: TruncatedError },
    { kind: 'message', hex: '0107ffffffffffffffffff02', err: 'wire: message has uvarint overflowing 64 bits at byte 2', type: InvalidError },
    { kind: 'message', hex: '01070102030000000200000000', err: 'wire: message has invalid bool 2 at byte 8', type: InvalidError },
    { kind: 'message', hex: '010501020300000000000001010102', err: 'wire: message entries truncated at byte 11', type: TruncatedError },
    { kind: 'message', hex: '01070102030000000000ff0f', err: 'wire: message context too large (2047 > 1024) at byte 10', type: TooLargeError },
    { kind: 'message', hex: '01078000', err: 'wire: message has non-minimal uvarint at byte 2', type: InvalidError },
    { kind: 'message', hex: '0110', err: 'wire: message has unknown message type 16 at byte 1', type: InvalidError },
    { kind: 'message', hex: '01050102030000000000000101010300', err: 'wire: message has unknown entry type 3 at byte 14', type: InvalidError },
    { kind: 'message', hex: '010e01020300000000000000', err: 'wire: message truncated at byte 12', type: TruncatedError },
    {
      kind: 'message',
      hex: '010e01020302090a0000000009020101008108',
      err: 'wire: message member address too large (1025 > 1024) at byte 17',
      type: TooLargeError,
    },
    {
      kind: 'message',
      hex: '010e01020302090a00000000090200000081808002',
      err: 'wire: message snapshot data too large (4194305 > 4194304) at byte 17',
      type: TooLargeError,
    },
    {
      kind: 'message',
      hex: '010e01020302090a0000000009028120',
      err: 'wire: message members too large (4097 > 4096) at byte 14',
      type: TooLargeError,
    },
    { kind: 'command', hex: '0109', err: 'kv: command has unknown op 9 at byte 1', type: InvalidError },
    { kind: 'command', hex: '010107018102', err: 'kv: command key too large (257 > 256) at byte 4', type: TooLargeError },
    { kind: 'inputs', hex: '010109', err: 'abi: inputs has unknown input tag 9 at byte 2', type: InvalidError },
    { kind: 'inputs', hex: '0101', err: 'abi: inputs batch truncated at byte 1', type: TruncatedError },
    { kind: 'inputs', hex: '0102030107', err: 'abi: inputs command truncated at byte 4', type: TruncatedError },
    { kind: 'inputs', hex: '0101030105010900000000000000', err: 'abi: inputs has unknown op 9 at byte 6', type: InvalidError },
    { kind: 'inputs', hex: 'ff', err: 'abi: inputs has version 255 (want 1) at byte 0', type: VersionError },
    { kind: 'inputs', hex: '', err: 'abi: inputs truncated at byte 0', type: TruncatedError },
    { kind: 'inputs', hex: '01ffffffff0f', err: 'abi: inputs batch too large (4294967295 > 1048576) at byte 1', type: TooLargeError },
    { kind: 'inputs', hex: '0101020e01070102030000c8010000000000', err: 'abi: inputs has 1 trailing byte in frame at byte 17', type: InvalidError },
    {
      kind: 'inputs',
      hex: '010107010407020000',
      err: 'abi: inputs has unknown configuration change type 7 at byte 5',
      type: InvalidError,
    },
    { kind: 'inputs', hex: '01010701050102000000', err: 'abi: inputs has 1 trailing byte in frame at byte 9', type: InvalidError },
    { kind: 'inputs', hex: '010107010401020001', err: 'abi: inputs members truncated at byte 8', type: TruncatedError },
    { kind: 'effects', hex: '010109', err: 'abi: effects has unknown effect tag 9 at byte 2', type: InvalidError },
    { kind: 'effects', hex: '0101030509', err: 'abi: effects has unknown reply code 9 at byte 4', type: InvalidError },
    { kind: 'effects', hex: '010107', err: 'abi: effects has unknown effect tag 7 at byte 2', type: InvalidError },
    { kind: 'effects', hex: '0101060902000002', err: 'abi: effects has invalid bool 2 at byte 7', type: InvalidError },
    { kind: 'effects', hex: '0101060902000568', err: 'abi: effects snapshot data truncated at byte 6', type: TruncatedError },
    {
      kind: 'effects',
      hex: '01010501030000000000000000000000000101000000030100000000000000',
      err: 'abi: effects has unknown progress state 3 at byte 22',
      type: InvalidError,
    },
    { kind: 'effects', hex: '010104', err: 'abi: effects truncated at byte 3', type: TruncatedError },
    { kind: 'effects', hex: '0101050201', err: 'abi: effects truncated at byte 5', type: TruncatedError },
    { kind: 'effects', hex: '0101010000000a', err: 'abi: effects entries truncated at byte 6', type: TruncatedError },
    { kind: 'effects', hex: '0101050109', err: 'abi: effects has unknown role 9 at byte 4', type: InvalidError },
    {
      kind: 'effects',
      hex: '01010300000000000000000080808080808080808001',
      err: 'abi: effects reply value too large (9223372036854775808 > 65536) at byte 12',
      type: TooLargeError,
    },
    {
      kind: 'init',
      hex: '0101010100000000000000000000000000000000000000000000',
      err: 'abi: init has 1 trailing byte at byte 25',
      type: InvalidError,
    },
    {
      kind: 'init',
      hex: '01010101000000000000000000000000000000000000000200',
      err: 'abi: init has invalid bool 2 at byte 23',
      type: InvalidError,
    },
    { kind: 'init', hex: '010180', err: 'abi: init truncated at byte 2', type: TruncatedError },
  ];
  for (const c of cases) {
    it(`${c.kind} ${c.hex || '(empty)'}`, () => {
      assert.throws(
        () => decodeAs(c.kind, unhex(c.hex)),
        (e: unknown) => {
          assert.ok(e instanceof c.type, `${String(e)} is not a ${c.type.name}`);
          assert.ok(e instanceof DecodeError);
          assert.equal(e.message, c.err);
          return true;
        },
      );
    });
  }

  it('refuse a message over 16 MiB before reading it', () => {
    assert.throws(() => decodeMessage(new Uint8Array((16 << 20) + 1)), TooLargeError);
  });
});

describe('primitives', () => {
  it('encode uvarints as docs/ABI.md shows', () => {
    const cases: [bigint, string][] = [
      [0n, '00'],
      [127n, '7f'],
      [128n, '8001'],
      [300n, 'ac02'],
      [(1n << 32n) - 1n, 'ffffffff0f'],
      [1n << 49n, '8080808080808001'],
      [(1n << 56n) - 1n, 'ffffffffffffff7f'],
      [MAX_U64, 'ffffffffffffffffff01'],
    ];
    for (const [v, want] of cases) {
      const w = new Writer();
      w.uvarint(v);
      assert.equal(hex(w.bytes()), want, `uvarint ${v}`);
      assert.equal(new Reader(w.bytes(), 'test').uvarint(), v);
    }
  });

  it('zigzag ints', () => {
    const cases: [bigint, string][] = [
      [0n, '00'],
      [-1n, '01'],
      [1n, '02'],
      [-2n, '03'],
      [2n, '04'],
      [MAX_INT, 'feffffffffffffffff01'],
      [MIN_INT, 'ffffffffffffffffff01'],
    ];
    for (const [v, want] of cases) {
      const w = new Writer();
      w.int(v);
      assert.equal(hex(w.bytes()), want, `int ${v}`);
      assert.equal(new Reader(w.bytes(), 'test').int(), v);
    }
  });

  it('refuse out-of-range values when encoding', () => {
    const w = new Writer();
    assert.throws(() => w.uvarint(-1n), RangeError);
    assert.throws(() => w.uvarint(MAX_U64 + 1n), RangeError);
    assert.throws(() => w.int(MAX_INT + 1n), RangeError);
    assert.throws(() => w.int(MIN_INT - 1n), RangeError);
    assert.throws(() => w.u8(256), RangeError);
    assert.throws(() => encodeMessage(newMessage(MessageType.App, { term: -3n })), RangeError);
  });

  it('encode the examples of docs/ABI.md', () => {
    assert.equal(
      hex(encodeMessage(newMessage(MessageType.Heartbeat, { from: 1n, to: 2n, term: 3n, commit: 200n }))),
      '01070102030000c80100000000',
    );
    assert.equal(
      hex(encodeCommand(newCommand(Op.Set, 'k', { clientID: 7n, seq: 1n, value: new Uint8Array([0x76]) }))),
      '01010701016b01760000',
    );
    assert.equal(hex(encodeInputs([])), '0100');
    assert.equal(hex(encodeInputs([{ kind: 'tick' }, { kind: 'tick' }, { kind: 'tick' }])), '0103010101');
  });

  it('round-trip a kv result', () => {
    const res = { ok: false, found: true, value: new Uint8Array([1, 2]), err: 'cas: value differs' };
    const b = encodeResult(res);
    assert.deepStrictEqual(decodeResult(b), res);
    assert.throws(() => decodeResult(b.subarray(0, b.length - 1)), TruncatedError);
  });

  it('copy byte fields out of the input', () => {
    const b = encodeCommand(newCommand(Op.Set, 'k', { value: new Uint8Array([9, 9]) }));
    const c = decodeCommand(b);
    b.fill(0);
    assert.deepStrictEqual([...c.value], [9, 9]);
  });
});

describe('snapshots and membership', () => {
  const vector = (name: string): Vector => {
    const v = vectors.find((x) => x.name === name);
    assert.ok(v, `no vector ${name}`);
    return v;
  };

  it('encode voters and learners as members sorted by id, as Go does', () => {
    const cfg = newConfig(2n, [3n, 1n, 2n], 0n, { learners: [5n, 4n] });
    assert.equal(hex(encodeInit(cfg, emptyRestored())), vector('init voters and learners (members sorted by id)').hex);
    const { config } = decodeInit(encodeInit(cfg, emptyRestored()));
    assert.deepStrictEqual(config.raft.voters, []);
    assert.deepStrictEqual(config.raft.learners, []);
    assert.deepStrictEqual(
      config.raft.members.map((m) => [m.id, m.learner]),
      [
        [1n, false],
        [2n, false],
        [3n, false],
        [4n, true],
        [5n, true],
      ],
    );
  });

  it('carry a snapshot chunk only in a Snap message', () => {
    const chunk = { meta: { index: 9n, term: 2n, members: [] }, size: 5n, offset: 0n, data: new Uint8Array([1]) };
    const app = newMessage(MessageType.App, { from: 1n, to: 2n, snapshot: chunk });
    assert.equal(hex(encodeMessage(app)), hex(encodeMessage(newMessage(MessageType.App, { from: 1n, to: 2n }))));
    assert.equal(decodeMessage(encodeMessage(app)).snapshot, undefined);
    const snap = newMessage(MessageType.Snap, { from: 1n, to: 2n, snapshot: chunk });
    assert.deepStrictEqual(decodeMessage(encodeMessage(snap)), snap);
  });

  it('name the new event kinds, reply code and progress state as Go does', () => {
    assert.deepStrictEqual(
      [18, 19, 20, 21, 22, 23, 24].map(eventKindName),
      ['conf-change-proposed', 'membership-changed', 'snapshot-sending', 'snapshot-installed', 'log-compacted', 'inputs-rejected', 'unknown'],
    );
    assert.equal(eventKindName(3), 'elected');
    assert.equal(eventKindName(0), 'unknown');
    assert.equal(replyCodeName(7), 'conflict');
    assert.equal(replyCodeName(8), 'session-conflict');
    assert.equal(replyCodeName(9), 'unknown');
    assert.equal(progressStateName(2), 'snapshot');
  });
});
