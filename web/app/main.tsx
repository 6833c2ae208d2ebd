import { render } from 'preact';

import { ClusterController, FIRST_IDS, type MembershipStore, type NodeRecord } from './cluster/controller.js';
import { createClusterStore } from './cluster/store.js';
import { Connect } from './remote/Connect.js';
import { createSession } from './remote/session.js';
import { Chaos } from './ui/Chaos.js';
import { ClusterContext } from './ui/context.js';
import { EventLog } from './ui/EventLog.js';
import { LogView } from './ui/LogView.js';
import { Membership } from './ui/Membership.js';
import { NodeCards, QuorumBadge } from './ui/NodeCards.js';
import { Terminal } from './ui/Terminal.js';
import { TrafficLegend } from './ui/Traffic.js';
import './style.css';

const PREVOTE_KEY = 'wraft-prevote';
const MEMBERS_KEY = 'wraft-members';

/**
 * The nodes the page started (each in its database wraft-node-<id>), as
 * JSON in localStorage, so that a reload restores a grown or shrunk
 * cluster: [{id, joined?: [{id, learner}], voter?, removed?}].
 */
const membership: MembershipStore = {
  load() {
    try {
      const raw = localStorage.getItem(MEMBERS_KEY);
      if (raw === null) return undefined;
      const list = JSON.parse(raw) as { id: string; joined?: { id: string; learner: boolean }[]; voter?: boolean; removed?: boolean }[];
      return list.map((r) => {
        const rec: NodeRecord = { id: BigInt(r.id) };
        if (r.joined !== undefined) rec.joined = r.joined.map((m) => ({ id: BigInt(m.id), learner: m.learner, addr: '' }));
        if (r.voter) rec.voter = true;
        if (r.removed) rec.removed = true;
        return rec;
      });
    } catch {
      return undefined;
    }
  },
  save(records) {
    const list = records.map((r) => ({
      id: String(r.id),
      ...(r.joined !== undefined ? { joined: r.joined.map((m) => ({ id: String(m.id), learner: m.learner })) } : {}),
      ...(r.voter ? { voter: true } : {}),
      ...(r.removed ? { removed: true } : {}),
    }));
    localStorage.setItem(MEMBERS_KEY, JSON.stringify(list));
  },
};

const store = createClusterStore(FIRST_IDS, localStorage.getItem(PREVOTE_KEY) !== 'off');
const controller = new ClusterController(store, {
  membership,
  cluster: 'wraft',
  wasmUrl: new URL('raft.wasm', document.baseURI).href,
  newWorker: () => new Worker(new URL('./cluster/worker.ts', import.meta.url), { type: 'module' }),
});
store.preVote.subscribe((on) => localStorage.setItem(PREVOTE_KEY, on ? 'on' : 'off'));
const session = createSession(controller);

function App() {
  const dashboard = session.active.value;
  return (
    <ClusterContext.Provider value={dashboard}>
      <header class="top">
        <h1>{dashboard.title}</h1>
        <QuorumBadge />
      </header>
      <main>
        <Connect session={session} />
        <NodeCards />
        {dashboard.caps.membership ? <Membership /> : null}
        {dashboard.caps.traffic ? <TrafficLegend /> : null}
        <div class="grid">
          <Terminal />
          <Chaos />
        </div>
        {dashboard.caps.logs ? <LogView /> : null}
        <EventLog />
      </main>
    </ClusterContext.Provider>
  );
}

render(<App />, document.getElementById('app')!);
controller.startAll();

// For the benchmark script and the curious: the in-browser cluster's controller, from the console.
(globalThis as { wraft?: ClusterController }).wraft = controller;
