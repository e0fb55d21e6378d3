import { describe, expect, it } from 'vitest';
import { createEnvSeal } from './env-seal.ts';

describe('sealed kernel env in gateway records', () => {
  const env = { OPENAI_API_KEY: 'sk-live-0123456789abcdef', PLAIN: 'x' };

  it('holds no value in clear and opens to the same env with the same secret and kernel', () => {
    const sealed = createEnvSeal('gateway-secret').seal(env, 'kernel-1');
    expect(sealed).not.toContain('sk-live');
    expect(Buffer.from(sealed, 'base64').toString('latin1')).not.toContain('sk-live');
    expect(createEnvSeal('gateway-secret').open(sealed, 'kernel-1')).toEqual(env);
  });

  it('does not open under another gateway secret, for another kernel, or once altered', () => {
    const seal = createEnvSeal('gateway-secret');
    const sealed = seal.seal(env, 'kernel-1');
    expect(() => createEnvSeal('another-secret').open(sealed, 'kernel-1')).toThrow();
    expect(() => seal.open(sealed, 'kernel-2')).toThrow();
    const bytes = Buffer.from(sealed, 'base64');
    const last = bytes.length - 1;
    bytes.writeUInt8(bytes.readUInt8(last) ^ 1, last);
    expect(() => seal.open(bytes.toString('base64'), 'kernel-1')).toThrow();
    expect(() => seal.open('', 'kernel-1')).toThrow(/truncated/);
  });

  it('names secret values by a digest only the same gateway secret reproduces', () => {
    const digest = createEnvSeal('gateway-secret').digest('{"API_KEY":"s3cr3t"}');
    expect(createEnvSeal('gateway-secret').digest('{"API_KEY":"s3cr3t"}')).toBe(digest);
    expect(createEnvSeal('another-secret').digest('{"API_KEY":"s3cr3t"}')).not.toBe(digest);
    expect(createEnvSeal('gateway-secret').digest('{"API_KEY":"rotated"}')).not.toBe(digest);
    expect(digest).not.toContain('s3cr3t');
  });
});
