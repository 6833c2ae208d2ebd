// Which cluster the dashboard shows: the in-browser one (the default) or a
// native one the user connected to. Switching stops the other.

import { signal } from '@preact/signals';

import type { ClusterController } from '../cluster/controller.js';
import type { Dashboard } from '../ui/context.js';
import { RemoteController } from './controller.js';
import { parseEndpoints } from './protocol.js';
import { createRemoteStore } from './store.js';

/** What `wraft demo` starts. */
export const DEFAULT_ENDPOINTS = 'http://127.0.0.1:8001,8002,8003';

export function createSession(local: ClusterController) {
  const active = signal<Dashboard>(local);
  const remote = signal<RemoteController | undefined>(undefined);
  const error = signal('');
  return {
    active,
    remote,
    /** Why the last connect failed, or ''. */
    error,
    /** Shows the native cluster at endpoints (see parseEndpoints); the in-browser nodes stop. */
    connect(endpoints: string, token: string): void {
      let list: string[];
      try {
        list = parseEndpoints(endpoints);
      } catch (err) {
        error.value = err instanceof Error ? err.message : String(err);
        return;
      }
      error.value = '';
      remote.value?.close();
      if (remote.value === undefined) local.stopAll();
      const r = new RemoteController(createRemoteStore(list, token.trim()));
      r.connect();
      remote.value = r;
      active.value = r;
    },
    /** Back to the in-browser cluster, which recovers from IndexedDB. */
    disconnect(): void {
      if (remote.value === undefined) return;
      remote.value.close();
      remote.value = undefined;
      active.value = local;
      local.startAll();
    },
  };
}

export type Session = ReturnType<typeof createSession>;
