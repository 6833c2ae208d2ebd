import { progressStateName, type PeerStatus } from '../../shim/index.js';
import type { NodeView } from '../cluster/store.js';
import { useCluster } from './context.js';

const PALETTE = ['#3b82f6', '#a855f7', '#14b8a6', '#f97316', '#ec4899', '#84cc16', '#eab308', '#06b6d4'];

/** The leader's view of a follower, as a line under its log. */
function ProgressLine({ n, p }: { n: NodeView; p: PeerStatus }) {
  const state = progressStateName(p.state);
  return (
    <span
      class="progress"
      data-testid={`progress-${n.id}`}
      data-match={String(p.match)}
      data-next={String(p.next)}
      data-state={state}
      data-active={String(p.active)}
    >
      match {String(p.match)} · next {String(p.next)} · {state}
      {p.learner ? ' · learner' : ''}
      {p.active ? '' : ' · inactive'}
      {p.inflight > 0n ? ` · ${p.inflight} in flight` : ''}
    </span>
  );
}

/**
 * Each node's durable log: one cell per entry, coloured by term, dim while
 * uncommitted; on a follower's row, the leader's match (underlined) and
 * next (outlined) index for it.
 */
export function LogView() {
  const { store } = useCluster();
  const leader = store.leader.value;
  return (
    <section class="panel" aria-label="Logs">
      <h2>Replicated logs</h2>
      <p class="hint">
        One cell per entry (newest 64), colour = term; faded = not yet committed on that node; "snapshot ≤ N": entries up to N
        compacted into the node's snapshot. Under a follower: the leader's match and next index for it (underlined / outlined cell).
      </p>
      {store.nodes.value.filter((n) => !n.removed).map((n) => {
        const commit = n.status?.commit ?? 0n;
        const snap = n.status?.snapshot ?? 0n;
        const p = leader !== undefined && leader.id !== n.id ? leader.status?.progress.find((x) => x.id === n.id) : undefined;
        return (
          <div class="logrow" key={String(n.id)}>
            <span class="logname">N{String(n.id)}</span>
            <div class="cells">
              {snap > 0n ? (
                <span class="snapblock" data-testid={`snapblock-${n.id}`} title={`entries 1 to ${snap} are compacted into a snapshot`}>
                  snapshot ≤ {String(snap)}
                </span>
              ) : null}
              {n.terms.map((t, i) => {
                const index = n.firstIndex + BigInt(i);
                const committed = index <= commit;
                const mark = p === undefined ? '' : index === p.match ? ' match' : index === p.next ? ' next' : '';
                return (
                  <span
                    key={i}
                    class={`cell ${committed ? 'committed' : 'uncommitted'}${mark}`}
                    style={{ background: PALETTE[Number(t % BigInt(PALETTE.length))] }}
                    title={`index ${index}, term ${t}${committed ? ', committed' : ''}${mark ? `, leader's${mark} index` : ''}`}
                  />
                );
              })}
            </div>
            {p !== undefined ? <ProgressLine n={n} p={p} /> : null}
            {leader !== undefined && leader.id === n.id && leader.status ? (
              <span class="progress" data-testid={`progress-${n.id}`} data-last={String(leader.status.lastIndex)}>
                leader · last {String(leader.status.lastIndex)}
              </span>
            ) : null}
          </div>
        );
      })}
    </section>
  );
}
