import { render } from 'preact';

import { ClusterController } from './cluster/controller.js';
import { createClusterStore } from './cluster/store.js';
import { Chaos } from './ui/Chaos.js';
import { ClusterContext } from './ui/context.js';
import { EventLog } from './ui/EventLog.js';
import { LogView } from './ui/LogView.js';
import { NodeCards, QuorumBadge } from './ui/NodeCards.js';
import { Terminal } from './ui/Terminal.js';
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

function App() {
  return (
    <ClusterContext.Provider value={controller}>
      <header class="top">
        <h1>wraft · raft.wasm ×3</h1>
        <QuorumBadge />
      </header>
      <main>
        <NodeCards />
        <div class="grid">
          <Terminal />
          <Chaos />
        </div>
        <LogView />
        <EventLog />
      </main>
    </ClusterContext.Provider>
  );
}

render(<App />, document.getElementById('app')!);
controller.startAll();

// For the benchmark script and the curious: the controller, from the console.
(globalThis as { wraft?: ClusterController }).wraft = controller;
