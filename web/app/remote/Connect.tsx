import { useSignal } from '@preact/signals';

import { DEFAULT_ENDPOINTS, type Session } from './session.js';
import { loadToken, saveToken } from './token.js';

const ENDPOINTS_KEY = 'wraft-endpoints';

/** Switches the dashboard between the in-browser cluster and a native one (`wraft demo`, `wraft node`). */
export function Connect({ session }: { session: Session }) {
  const open = useSignal(false);
  const endpoints = useSignal(localStorage.getItem(ENDPOINTS_KEY) ?? DEFAULT_ENDPOINTS);
  const token = useSignal(loadToken());
  const remote = session.remote.value;
  if (remote !== undefined) {
    return (
      <section class="panel connect" aria-label="Cluster">
        <p class="hint" data-testid="mode">
          Native cluster: {remote.store.endpoints.value.join(', ')}
          {remote.store.token === '' ? ' (no admin token: chaos controls answer 401)' : ''}
        </p>
        <button type="button" onClick={() => session.disconnect()}>
          Back to the in-browser cluster
        </button>
      </section>
    );
  }
  const submit = (ev: Event) => {
    ev.preventDefault();
    localStorage.setItem(ENDPOINTS_KEY, endpoints.value);
    saveToken(token.value);
    session.connect(endpoints.value, token.value);
  };
  return (
    <section class="panel connect" aria-label="Cluster">
      <p class="hint" data-testid="mode">
        In-browser cluster: {session.active.value.store.nodes.value.filter((n) => !n.removed).length} raft.wasm nodes in workers.{' '}
        <button type="button" aria-expanded={open.value} onClick={() => (open.value = !open.value)}>
          Connect to a cluster
        </button>
      </p>
      {open.value ? (
        <form class="connect-form" onSubmit={submit}>
          <label>
            API endpoints
            <input value={endpoints.value} spellcheck={false} onInput={(e) => (endpoints.value = (e.target as HTMLInputElement).value)} />
          </label>
          <label>
            Admin token
            <input type="password" autocomplete="off" value={token.value} onInput={(e) => (token.value = (e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit">Connect</button>
          {session.error.value ? <p class="error">{session.error.value}</p> : null}
        </form>
      ) : null}
    </section>
  );
}
