// One Raft node in a dedicated worker: raft.wasm through the WASI shim,
// IndexedDB storage (entries and snapshots persisted before anything that
// depends on them is sent, which NodeHost guarantees), the BroadcastChannel network with its
// chaos layer, and a tick every tickMs. Terminating the worker is a crash.

import { WASI } from '@bjorn3/browser_wasi_shim';

import {
  BroadcastNetwork,
  IndexedDBStorage,
  NodeHost,
  RaftNode,
  RequestError,
  newConfig,
  type Reply,
} from '../../shim/index.js';
import { dbName, type Flight, type FromWorker, type StartMsg, type ToWorker } from './protocol.js';
import { TermLog } from './termlog.js';

/** How many of the newest entries the log view gets. */
const LOG_TAIL = 64;

const post = (m: FromWorker) => (self as unknown as Worker).postMessage(m);

let host: NodeHost | undefined;
let net: BroadcastNetwork | undefined;
let log: TermLog | undefined;
/** This tick's sends, by peer, type and fate; posted to the page at the next tick. */
const flights = new Map<string, Flight>();

function flushFlights(): void {
  if (flights.size === 0) return;
  post({ type: 'traffic', flights: [...flights.values()] });
  flights.clear();
}
const early: ToWorker[] = [];

async function start(m: StartMsg): Promise<void> {
  const bytes = await (await fetch(m.wasmUrl)).arrayBuffer();
  const module = await WebAssembly.compile(bytes);
  log = new TermLog(await IndexedDBStorage.open(dbName(m.cluster, m.id)));
  net = new BroadcastNetwork(`${m.cluster}-net`, m.chaos);
  net.onSend = (f) => {
    // A wire message starts with its version byte, then its type.
    const type = f.bytes[1] ?? 0;
    const key = `${f.to}/${type}/${f.dropped}`;
    const had = flights.get(key);
    if (had !== undefined) had.count++;
    else flights.set(key, { from: f.from, to: f.to, type, sentAt: Date.now(), delayMs: f.delayMs, dropped: f.dropped, count: 1 });
  };
  const config = newConfig(
    m.id,
    [],
    m.seed,
    { members: m.members, electionTicks: m.electionTicks, heartbeatTicks: m.heartbeatTicks, disablePreVote: !m.preVote },
    { snapshotEntries: m.snapshotEntries },
  );
  const termLog = log;
  host = await NodeHost.start({
    config,
    newCore: () => RaftNode.createSync(module, new WASI([], [], [], { debug: false })),
    storage: termLog,
    network: net,
    onStatus: (status) => post({ type: 'status', status, ...termLog.tail(LOG_TAIL) }),
    onEvent: (event) => post({ type: 'event', event }),
  });
  const h = host;
  setInterval(() => {
    flushFlights();
    h.tick();
  }, m.tickMs);
  h.tick();
  for (const x of early.splice(0)) handle(x);
}

function answer(rid: number, p: Promise<Reply>): void {
  p.then(
    (reply) => post({ type: 'reply', rid, reply }),
    (err: unknown) => post({ type: 'failed', rid, error: err instanceof RequestError ? err.message : String(err) }),
  );
}

function handle(m: ToWorker): void {
  if (m.type === 'start') {
    start(m).catch((err: unknown) => post({ type: 'fatal', error: String(err) }));
    return;
  }
  if (host === undefined) {
    early.push(m);
    return;
  }
  switch (m.type) {
    case 'propose':
      answer(m.rid, host.propose(m.command, (reply) => post({ type: 'pending', rid: m.rid, reply })));
      break;
    case 'read':
      answer(m.rid, host.read(m.key, false, (reply) => post({ type: 'pending', rid: m.rid, reply })));
      break;
    case 'changeMembers':
      answer(m.rid, host.changeMembers(m.change, m.nodeID, '', (reply) => post({ type: 'pending', rid: m.rid, reply })));
      break;
    case 'chaos':
      net?.setChaos(m.chaos);
      break;
  }
}

self.onmessage = (ev: MessageEvent<ToWorker>) => handle(ev.data);
