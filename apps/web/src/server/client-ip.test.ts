import { describe, expect, it } from 'vitest';
import { clientIp } from './client-ip.ts';

describe('clientIp', () => {
  it('ignores X-Forwarded-For unless a proxy is trusted, so callers cannot spoof their rate-limit key', () => {
    expect(clientIp('10.0.0.5', '1.2.3.4', false)).toBe('10.0.0.5');
    expect(clientIp('10.0.0.5', '1.2.3.4, 10.0.0.1', true)).toBe('1.2.3.4');
  });

  it('unwraps IPv4-mapped IPv6 addresses', () => {
    expect(clientIp('::ffff:127.0.0.1', undefined, false)).toBe('127.0.0.1');
    expect(clientIp(undefined, undefined, false)).toBe('unknown');
  });
});
