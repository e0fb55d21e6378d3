import { describe, expect, it } from 'vitest';
import { batchRefusal, MAX_BATCH_CALLS } from './batch-policy.ts';

const url = (paths: string[], query = '?batch=1') => `https://kiln.test/api/trpc/${paths.join(',')}${query}`;

describe('tRPC batch policy', () => {
  it('refuses a batch that carries sign-in guesses, in any spelling', () => {
    expect(batchRefusal(url(Array(200).fill('auth.signIn')))).toMatch(/at most 20 calls/);
    expect(batchRefusal(url(['auth.signIn', 'auth.signIn']))).toMatch(/cannot be batched/);
    expect(batchRefusal(url(['auth.me', 'auth.signUp']))).toMatch(/cannot be batched/);
    expect(batchRefusal(url(['account.changePassword', 'auth.me']))).toMatch(/cannot be batched/);
    expect(batchRefusal(`https://kiln.test/api/trpc/auth.me%2Cauth.signIn?batch=1`)).toMatch(
      /cannot be batched/,
    );
  });

  it('caps every batch and lets ordinary ones through', () => {
    expect(batchRefusal(url(Array(MAX_BATCH_CALLS + 1).fill('auth.me')))).toMatch(/at most 20/);
    expect(batchRefusal(url(Array(MAX_BATCH_CALLS).fill('auth.me')))).toBeNull();
    expect(batchRefusal(url(['auth.signIn']))).toBeNull();
    expect(batchRefusal(url(['auth.signIn'], ''))).toBeNull();
    expect(batchRefusal(url(['auth.me', 'workspace.list']))).toBeNull();
  });
});
