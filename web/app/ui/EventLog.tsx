import { useCluster } from './context.js';

export function EventLog() {
  const { store } = useCluster();
  return (
    <section class="panel" aria-label="Event log">
      <h2>Engine events</h2>
      <ol class="events" data-testid="events">
        {store.events.value.map((e) => (
          <li key={e.seq}>
            <time>{(e.at / 1000).toFixed(1)}s</time> <b>N{String(e.node)}</b> {e.text}
          </li>
        ))}
      </ol>
    </section>
  );
}
