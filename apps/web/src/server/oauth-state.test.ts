import { describe, expect, it } from 'vitest';
import { checkOAuthState, packOAuthState } from './oauth-state.ts';

describe('OAuth state cookie', () => {
  it('returns the destination when GitHub echoes the same state', () => {
    expect(checkOAuthState(packOAuthState('abc', '/invite/t1'), 'abc')).toEqual({ next: '/invite/t1' });
  });

  it('rejects a callback whose state differs or whose cookie is gone', () => {
    expect(checkOAuthState(packOAuthState('abc', '/'), 'xyz')).toBeNull();
    expect(checkOAuthState(null, 'abc')).toBeNull();
    expect(checkOAuthState(packOAuthState('abc', '/'), null)).toBeNull();
  });

  it('never sends the browser off-site afterwards', () => {
    expect(checkOAuthState(packOAuthState('abc', 'https://evil.example'), 'abc')).toEqual({ next: '/' });
    expect(checkOAuthState('abc //evil.example', 'abc')).toEqual({ next: '/' });
  });
});
