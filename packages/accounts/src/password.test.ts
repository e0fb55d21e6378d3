import { describe, expect, it } from 'vitest';
import { hashPassword, TEST_PASSWORD_HASH_OPTIONS, verifyAgainstDummy, verifyPassword } from './password.ts';

describe('passwords', () => {
  it('hashes with argon2id at OWASP strength by default and verifies', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verifyPassword(hash, 'correct horse battery staple')).toBe(true);
    expect(await verifyPassword(hash, 'Correct horse battery staple')).toBe(false);
  });

  it('treats a corrupt stored hash as a mismatch and spends time on unknown users', async () => {
    expect(await verifyPassword('not-a-hash', 'anything')).toBe(false);
    expect(await verifyAgainstDummy('anything', TEST_PASSWORD_HASH_OPTIONS)).toBe(false);
  });
});
