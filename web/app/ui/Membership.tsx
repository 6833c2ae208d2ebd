import { useCluster } from './context.js';

/** Grow and shrink the cluster: Add node, and what the change under way is doing. */
export function Membership() {
  const c = useCluster();
  const v = c.store.voters.value;
  const members = c.store.nodes.value.filter((n) => !n.removed).length;
  return (
    <section class="panel membership" aria-label="Membership">
      <h2>Membership</h2>
      <div class="row">
        <button type="button" onClick={() => void c.addNode()} disabled={c.store.leader.value === undefined}>
          Add node
        </button>
        <p class="hint" data-testid="membership-state" role="status" aria-live="polite">
          {c.store.membership.value || `${members} members${v ? ` · ${v.voters} voters, majority ${v.majority}` : ''}`}
        </p>
      </div>
      <p class="hint">
        Add node starts node {String(nextId(c.store.nodes.value.map((n) => n.id)))} in a new worker with an empty database: it joins as a
        learner (no vote), catches up — by snapshot once the log was compacted — and the leader then promotes it to voter. Remove (on a
        card) takes a node out through the leader, one server at a time; the node stops for good.
      </p>
    </section>
  );
}

function nextId(ids: bigint[]): bigint {
  return ids.reduce((m, id) => (id > m ? id : m), 0n) + 1n;
}
