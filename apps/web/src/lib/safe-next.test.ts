import { describe, expect, it } from 'vitest';
import { safeNextPath } from './safe-next.ts';

describe('safeNextPath', () => {
  it('keeps same-site paths with their query', () => {
    expect(safeNextPath('/invite/abc?x=1')).toBe('/invite/abc?x=1');
  });

  it('falls back for absent, absolute or protocol-relative destinations', () => {
    expect(safeNextPath(null)).toBe('/');
    expect(safeNextPath('https://evil.example')).toBe('/');
    expect(safeNextPath('//evil.example')).toBe('/');
    expect(safeNextPath('/\\evil.example')).toBe('/');
  });

  it('refuses tabs, newlines and backslashes that browsers turn into another origin', () => {
    for (const attack of [
      '/\t/127.0.0.1:9911/tab',
      '/\n/127.0.0.1:9911/',
      '/\t\\127.0.0.1:9911/',
      '/\r//evil.example',
      '/%09/127.0.0.1:9911/tab',
      '/a\\..\\\\evil.example',
      '/\u0000//evil.example',
    ]) {
      const decoded = attack.startsWith('/%') ? decodeURIComponent(attack) : attack;
      const kept = safeNextPath(decoded);
      expect(kept, JSON.stringify(attack)).toBe('/');
      expect(new URL(kept, 'https://kiln.test').origin).toBe('https://kiln.test');
    }
    expect(safeNextPath('/w/team?tab=1#x')).toBe('/w/team?tab=1#x');
  });
});
