// The admin token of a native cluster, as the dashboard keeps it: pasted
// once into "Admin token" (wraft demo prints it; a node started without
// --admin-token keeps its own in DATA/admin-token), remembered in this
// browser's localStorage for this dashboard's origin, and sent as
// "Authorization: Bearer <token>" with every request that changes the
// cluster (the chaos controls; membership). Key-value requests need none.

/** The localStorage key the token is kept under. */
export const TOKEN_KEY = 'wraft-admin-token';

/** The part of Storage the token needs (tests pass a Map-backed one). */
export type TokenStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

function defaultStorage(): TokenStorage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined; // storage disabled: the token lasts as long as the page
  }
}

/** The token remembered in this browser, or ''. */
export function loadToken(storage: TokenStorage | undefined = defaultStorage()): string {
  return storage?.getItem(TOKEN_KEY)?.trim() ?? '';
}

/** Remembers token for the next visit; '' forgets it. */
export function saveToken(token: string, storage: TokenStorage | undefined = defaultStorage()): void {
  const t = token.trim();
  if (t === '') storage?.removeItem(TOKEN_KEY);
  else storage?.setItem(TOKEN_KEY, t);
}

/**
 * The headers of a request that changes the cluster: the token, and a JSON
 * body type. Either makes a cross-origin request one that a browser sends
 * only after a CORS preflight, which a node answers only for the origins
 * it lists (--cors-origin).
 */
export function adminHeaders(token: string): Record<string, string> {
  const h: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token.trim() !== '') h['Authorization'] = `Bearer ${token.trim()}`;
  return h;
}
