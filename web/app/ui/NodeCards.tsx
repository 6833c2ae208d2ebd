import { ledColour, membershipOf, roleName } from '../cluster/store.js';
import { useCluster } from './context.js';
import { TrafficLayer } from './Traffic.js';

export function QuorumBadge() {
  const { store } = useCluster();
  const ok = store.quorum.value;
  const v = store.voters.value;
  return (
    <div class="badges">
      <span class={`badge ${ok ? 'ok' : 'bad'}`} data-testid="quorum" role="status">
        {ok ? 'QUORUM ✓' : 'NO QUORUM ✗'}
      </span>
      <span class="badge" data-testid="voters" title="voters the leader hears from, of all voters; a majority commits">
        {v ? `${v.alive}/${v.voters} VOTERS · MAJORITY ${v.majority}` : 'VOTERS —'}
      </span>
      <span class="badge" data-testid="term">
        TERM {String(store.term.value)}
      </span>
      <span class="badge" data-testid="leader">
        LEADER {store.leader.value ? `NODE ${store.leader.value.id}` : '—'}
      </span>
    </div>
  );
}

export function NodeCards() {
  const c = useCluster();
  return (
    <section class="cards" aria-label="Nodes">
      {c.store.nodes.value.map((n) => {
        const role = roleName(n);
        const s = n.status;
        const member = membershipOf(c.store.nodes.value, n.id);
        return (
          <article class={`card ${role}`} data-testid={`node-${n.id}`} data-role={role} data-member={member ?? 'unknown'} key={String(n.id)}>
            <header>
              <span class={`led ${ledColour(role)}`} aria-hidden="true" />
              <h3>NODE {String(n.id)}</h3>
              <span class="role" data-testid={`role-${n.id}`}>
                {role.toUpperCase()}
              </span>
            </header>
            <p class={`member ${member ?? 'unknown'}`} data-testid={`member-${n.id}`}>
              {member === undefined ? 'not a member yet' : member}
            </p>
            <dl>
              <dt>Term</dt>
              <dd data-testid={`term-${n.id}`}>{s ? String(s.term) : '—'}</dd>
              <dt>Log</dt>
              <dd data-testid={`log-${n.id}`}>{s ? String(s.lastIndex) : '—'}</dd>
              <dt>Commit</dt>
              <dd data-testid={`commit-${n.id}`}>{s ? String(s.commit) : '—'}</dd>
              <dt>Keys</dt>
              <dd>{s ? String(s.keys) : '—'}</dd>
              <dt>Snapshot</dt>
              <dd data-testid={`snapshot-${n.id}`} title="the index of the newest snapshot; the log before it is compacted">
                {s ? (s.snapshot > 0n ? `≤ ${s.snapshot}` : 'none') : '—'}
              </dd>
              <dt>First index</dt>
              <dd data-testid={`first-${n.id}`}>{s ? String(s.firstIndex) : '—'}</dd>
            </dl>
            {n.removed ? null : (
              <div class="card-actions">
                {n.online ? (
                  <button type="button" class="danger" onClick={() => c.kill(n.id)}>
                    Kill Node {String(n.id)}
                  </button>
                ) : null}
                {c.caps.restart ? (
                  <button type="button" onClick={() => c.restart(n.id)}>
                    Restart Node {String(n.id)}
                  </button>
                ) : null}
                {c.caps.transfer && n.online && role !== 'leader' && c.store.leader.value !== undefined ? (
                  <button type="button" onClick={() => c.transfer(n.id)}>
                    Make Leader {String(n.id)}
                  </button>
                ) : null}
                {c.caps.membership && c.store.leader.value !== undefined ? (
                  <button type="button" class="danger" onClick={() => void c.removeNode(n.id)}>
                    Remove Node {String(n.id)}
                  </button>
                ) : null}
              </div>
            )}
          </article>
        );
      })}
      {c.caps.traffic ? <TrafficLayer /> : null}
    </section>
  );
}
