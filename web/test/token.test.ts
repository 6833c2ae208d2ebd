// The dashboard's admin token: remembered per origin in localStorage,
// forgotten when cleared, and sent only when set.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { TOKEN_KEY, adminHeaders, loadToken, saveToken, type TokenStorage } from '../app/remote/token.js';

function memory(): TokenStorage & { m: Map<string, string> } {
  const m = new Map<string, string>();
  return {
    m,
    getItem: (k) => m.get(k) ?? null,
    setItem: (k, v) => void m.set(k, v),
    removeItem: (k) => void m.delete(k),
  };
}

describe('admin token', () => {
  it('is remembered, trimmed, and forgotten when cleared', () => {
    const s = memory();
    assert.equal(loadToken(s), '');
    saveToken('  abc123 \n', s);
    assert.equal(s.m.get(TOKEN_KEY), 'abc123');
    assert.equal(loadToken(s), 'abc123');
    saveToken('', s);
    assert.equal(s.m.has(TOKEN_KEY), false);
    assert.equal(loadToken(undefined), '');
  });

  it('goes into the Authorization header only when set', () => {
    assert.deepEqual(adminHeaders('t0k'), { 'Content-Type': 'application/json', Authorization: 'Bearer t0k' });
    assert.deepEqual(adminHeaders(' '), { 'Content-Type': 'application/json' });
  });
});
