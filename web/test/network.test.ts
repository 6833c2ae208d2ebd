// MemoryNetwork: order, faults and partitions.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { MemoryNetwork, type NodeId } from '../shim/index.js';

/** Attaches nodes 1..n, each logging what it receives as "from>to:byte". */
function setup(n: number) {
  const net = new MemoryNetwork();
  const log: string[] = [];
  const eps = new Map<NodeId, ReturnType<MemoryNetwork['attach']>>();
  for (let i = 1n; i <= BigInt(n); i++) {
    const id = i;
    eps.set(id, net.attach(id, (from, bytes) => log.push(`${from}>${id}:${bytes[0]}`)));
  }
  const send = (from: bigint, to: bigint, b: number) => eps.get(from)!.send(to, new Uint8Array([b]));
  return { net, log, eps, send };
}

describe('MemoryNetwork', () => {
  it('delivers in sending order, only when asked', () => {
    const { net, log, send } = setup(3);
    send(1n, 2n, 10);
    send(2n, 3n, 11);
    send(3n, 1n, 12);
    assert.deepEqual(log, []);
    assert.equal(net.pending, 3);
    assert.equal(net.deliverAll(), 3);
    assert.deepEqual(log, ['1>2:10', '2>3:11', '3>1:12']);
    assert.deepEqual(net.stats, { sent: 3, delivered: 3, dropped: 0 });
  });

  it('copies the bytes at send', () => {
    const { net, log, eps } = setup(2);
    const b = new Uint8Array([5]);
    eps.get(1n)!.send(2n, b);
    b[0] = 6;
    net.deliverAll();
    assert.deepEqual(log, ['1>2:5']);
  });

  it('delivers what receivers send while delivering', () => {
    const net = new MemoryNetwork();
    const log: string[] = [];
    const a = net.attach(1n, (_f, b) => {
      log.push(`1 got ${b[0]}`);
      if (b[0]! < 3) a.send(2n, new Uint8Array([b[0]! + 1]));
    });
    const b = net.attach(2n, (_f, bytes) => {
      log.push(`2 got ${bytes[0]}`);
      b.send(1n, new Uint8Array([bytes[0]! + 1]));
    });
    a.send(2n, new Uint8Array([0]));
    net.deliverAll();
    assert.deepEqual(log, ['2 got 0', '1 got 1', '2 got 2', '1 got 3']);
  });

  it('drops and delays through its hooks', () => {
    const { net, log, send } = setup(2);
    net.faults = { drop: (e) => e.bytes[0] === 1, delay: (e) => (e.bytes[0] === 2 ? 2 : 0) };
    send(1n, 2n, 1);
    send(1n, 2n, 2);
    send(1n, 2n, 3);
    net.deliverAll();
    assert.deepEqual(log, ['1>2:3']);
    net.advance();
    net.deliverAll();
    assert.deepEqual(log, ['1>2:3']);
    net.advance();
    net.deliverAll();
    assert.deepEqual(log, ['1>2:3', '1>2:2']);
    assert.equal(net.stats.dropped, 1);
  });

  it('cuts partitions both at send and for messages in flight, until healed', () => {
    const { net, log, send } = setup(3);
    send(1n, 3n, 1); // in flight when the partition forms
    net.partition([1n, 2n], [3n]);
    send(1n, 2n, 2);
    send(3n, 1n, 3);
    net.deliverAll();
    assert.deepEqual(log, ['1>2:2']);
    net.heal();
    send(3n, 1n, 4);
    net.isolate(2n);
    send(1n, 2n, 5);
    send(1n, 3n, 6);
    net.deliverAll();
    assert.deepEqual(log, ['1>2:2', '3>1:4', '1>3:6']);
    assert.equal(net.stats.dropped, 3);
  });

  it('drops messages to a closed endpoint, and lets the node attach again', () => {
    const { net, log, eps, send } = setup(2);
    send(1n, 2n, 1);
    eps.get(2n)!.close();
    eps.get(2n)!.send(1n, new Uint8Array([9])); // a closed endpoint sends nothing
    net.deliverAll();
    assert.equal(log.length, 0);
    net.attach(2n, (from, b) => log.push(`${from}>2 again:${b[0]}`));
    send(1n, 2n, 2);
    net.deliverAll();
    assert.deepEqual(log, ['1>2 again:2']);
  });

  it('delivers or drops a chosen message', () => {
    const { net, log, send } = setup(2);
    send(1n, 2n, 1);
    send(1n, 2n, 2);
    send(1n, 2n, 3);
    net.deliverAt(2);
    net.dropAt(0);
    net.deliverAll();
    assert.deepEqual(log, ['1>2:3', '1>2:2']);
    assert.throws(() => net.deliverAt(0), RangeError);
  });
});
