import { useCluster } from './context.js';

/** The chaos controls, each with what it shows. */
export function Chaos() {
  const c = useCluster();
  const { chaos, preVote } = c.store;
  const ch = chaos.value;
  const ids = c.store.nodes.value.filter((n) => !n.removed).map((n) => n.id);
  const state = [
    ch.isolated !== undefined ? `${ch.rogue ? 'rogue' : 'isolated'}: node ${ch.isolated}` : 'no partition',
    ch.slow ? 'slow network 500 ms' : 'network fast',
    preVote.value ? 'PreVote on' : 'PreVote off',
  ].join(' · ');
  return (
    <section class="panel chaos" aria-label="Chaos controls">
      <h2>Chaos controls</h2>
      <p class="hint" data-testid="chaos-state">{state}</p>
      <div class="scenario">
        <button type="button" class="danger" onClick={() => c.killLeader()}>
          Kill Leader
        </button>
        <p>The node dies with its memory; the survivors elect a new leader within an election timeout.</p>
      </div>
      <div class="scenario">
        <div class="row">
          {ids.map((id) => (
            <button type="button" key={String(id)} onClick={() => c.isolate(id)}>
              Isolate {String(id)}
            </button>
          ))}
        </div>
        <p>Network partition, one node against the rest: the minority cannot commit, the majority goes on; after Heal it converges.</p>
      </div>
      <div class="scenario">
        <button type="button" aria-pressed={ch.slow} onClick={() => c.slow(!ch.slow)}>
          Slow Network (500 ms) {ch.slow ? 'ON' : 'OFF'}
        </button>
        <p>Every message waits 500 ms: commits slow down, the leader stays (election timeout 1–2 s).</p>
      </div>
      <div class="scenario">
        <div class="row">
          {ids.map((id) => (
            <button type="button" key={String(id)} onClick={() => c.isolate(id, true)}>
              Rogue Node {String(id)}
            </button>
          ))}
        </div>
        <p>A cut-off node keeps timing out. With PreVote its term stays put and it does not depose the leader on Heal.</p>
      </div>
      <div class="scenario">
        <label class="switch">
          <input
            type="checkbox"
            checked={preVote.value}
            disabled={!c.caps.preVote}
            onChange={(e) => c.setPreVote((e.target as HTMLInputElement).checked)}
          />
          PreVote
        </label>
        <p>
          {c.caps.preVote
            ? 'Changing it restarts every node from IndexedDB with the new setting.'
            : 'As the nodes report it; a native node turns it off with --no-prevote.'}
        </p>
      </div>
      <div class="row">
        <button type="button" onClick={() => c.heal()}>
          Heal
        </button>
        {c.caps.restart ? (
          <>
            <button type="button" onClick={() => c.restartAll()}>
              Restart All
            </button>
            <button type="button" class="danger" onClick={() => void c.reset()}>
              Reset
            </button>
          </>
        ) : null}
      </div>
      <p class="hint">
        {c.caps.restart
          ? 'Restart All: every node recovers from its own IndexedDB. Reset: deletes the databases and goes back to three nodes.'
          : 'Kill Node crashes the process (POST /v1/admin/crash); whoever runs it restarts it, and its card comes back.'}
      </p>
    </section>
  );
}
