import { useCluster } from './context.js';

const PALETTE = ['#3b82f6', '#a855f7', '#14b8a6', '#f97316', '#ec4899', '#84cc16', '#eab308', '#06b6d4'];

/** Each node's durable log: one cell per entry, coloured by term, dim while uncommitted. */
export function LogView() {
  const { store } = useCluster();
  return (
    <section class="panel" aria-label="Logs">
      <h2>Replicated logs</h2>
      <p class="hint">One cell per entry (newest 64), colour = term; faded = not yet committed on that node.</p>
      {store.nodes.value.map((n) => {
        const commit = n.status?.commit ?? 0n;
        return (
          <div class="logrow" key={String(n.id)}>
            <span class="logname">N{String(n.id)}</span>
            <div class="cells">
              {n.terms.map((t, i) => {
                const index = n.firstIndex + BigInt(i);
                const committed = index <= commit;
                return (
                  <span
                    key={i}
                    class={`cell ${committed ? 'committed' : 'uncommitted'}`}
                    style={{ background: PALETTE[Number(t % BigInt(PALETTE.length))] }}
                    title={`index ${index}, term ${t}${committed ? ', committed' : ''}`}
                  />
                );
              })}
            </div>
          </div>
        );
      })}
    </section>
  );
}
