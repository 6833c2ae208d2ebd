import { render } from 'preact';

import { ClusterController } from './cluster/controller.js';
import { createClusterStore } from './cluster/store.js';
import { Connect } from './remote/Connect.js';
import { createSession } from './remote/session.js';
import { Chaos } from './ui/Chaos.js';
import { ClusterContext } from './ui/context.js';
import { EventLog } from './ui/EventLog.js';
import { LogView } from './ui/LogView.js';
import { NodeCards, QuorumBadge } from './ui/NodeCards.js';
import { Terminal } from './ui/Terminal.js';
import { TrafficLegend } from './ui/Traffic.js';
import './style.css';

const IDS = [1n, 2n, 3n];
const PREVOTE_KEY = 'wraft-prevote';

const store = createClusterStore(IDS, localStorage.getItem(PREVOTE_KEY) !== 'off');
const controller = new ClusterController(store, {
  ids: IDS,
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
