// BroadcastNetwork over Node's BroadcastChannel: addressing, partitions,
// delays and drops.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { BroadcastNetwork, noChaos, partitionLinks, type Endpoint } from '../shim/index.js';

let n = 0;

/** Three nodes, each on its own BroadcastNetwork (as in its own worker), logging "from>to:byte". */
function setup() {
  const name = `wraft-test-${process.pid}-${n++}`;
  const log: string[] = [];
  const nets = [1n, 2n, 3n].map(() => new BroadcastNetwork(name));
  const eps: Endpoint[] = nets.map((net, i) => {
    const id = BigInt(i + 1);
    return net.attach(id, (from, bytes) => log.push(`${from}>${id}:${bytes[0]}`));
  });
  const close = () => eps.forEach((e) => e.close());
  return { nets, eps, log, close };
}

const settle = (ms = 30) => new Promise((r) => setTimeout(r, ms));

/** Waits (at most 2 s) until log holds n lines, then settles, so that a slow first delivery is not taken for a lost one. */
async function atLeast(log: string[], n: number): Promise<void> {
  for (let i = 0; i < 200 && log.length < n; i++) await settle(10);
  await settle();
}

describe('BroadcastNetwork', () => {
  it('delivers each message only to its addressee', async () => {
    const { eps, log, close } = setup();
    eps[0]!.send(2n, new Uint8Array([7]));
    eps[2]!.send(1n, new Uint8Array([8]));
    await atLeast(log, 2);
    close();
    assert.deepEqual(log.sort(), ['1>2:7', '3>1:8']);
  });

  it('cuts partitioned links at the sender and at the receiver', async () => {
    const { nets, eps, log, close } = setup();
    const chaos = { ...noChaos(), cut: partitionLinks([1n, 2n, 3n], [[1n], [2n, 3n]]) };
    assert.deepEqual(chaos.cut.sort(), ['1>2', '1>3', '2>1', '3>1']);
    nets.forEach((net) => net.setChaos(chaos));
    eps[0]!.send(2n, new Uint8Array([1]));
    eps[1]!.send(1n, new Uint8Array([2]));
    eps[1]!.send(3n, new Uint8Array([3]));
    // Only the receiver knows of the partition: it still drops.
    nets[1]!.setChaos(noChaos());
    eps[1]!.send(1n, new Uint8Array([4]));
    await settle();
    close();
    assert.deepEqual(log, ['2>3:3']);
  });

  it('delays and drops', async () => {
    const { nets, eps, log, close } = setup();
    nets[0]!.setChaos({ cut: [], delayMs: 60, dropRate: 0 });
    eps[0]!.send(2n, new Uint8Array([1]));
    await settle();
    assert.deepEqual(log, []);
    await settle(80);
    assert.deepEqual(log, ['1>2:1']);
    nets[0]!.setChaos({ cut: [], delayMs: 0, dropRate: 1 });
    eps[0]!.send(2n, new Uint8Array([2]));
    await settle();
    close();
    assert.deepEqual(log, ['1>2:1']);
    assert.equal(nets[0]!.stats.dropped, 1);
  });

  it('tells onSend the fate of every message it sends', async () => {
    const { nets, eps, close } = setup();
    const fates: string[] = [];
    nets[0]!.onSend = (f) => fates.push(`${f.from}>${f.to}:${f.bytes[0]}:${f.dropped ? 'dropped' : `${f.delayMs}ms`}`);
    eps[0]!.send(2n, new Uint8Array([1]));
    nets[0]!.setChaos({ cut: ['1>3'], delayMs: 20, dropRate: 0 });
    eps[0]!.send(3n, new Uint8Array([2]));
    eps[0]!.send(2n, new Uint8Array([3]));
    await settle(60);
    close();
    assert.deepEqual(fates, ['1>2:1:0ms', '1>3:2:dropped', '1>2:3:20ms']);
  });
});
