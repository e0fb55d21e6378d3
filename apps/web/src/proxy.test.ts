import { NextRequest } from 'next/server';
import { beforeAll, describe, expect, it } from 'vitest';

let proxy: typeof import('./proxy.ts').proxy;

beforeAll(async () => {
  process.env.DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/unused';
  process.env.APP_URL = 'https://kiln.test';
  ({ proxy } = await import('./proxy.ts'));
});

describe('proxy', () => {
  it('gives a first-time visitor a random, script-readable kiln_csrf cookie', () => {
    const first = proxy(new NextRequest('https://kiln.test/sign-in')).headers.get('set-cookie') ?? '';
    const second = proxy(new NextRequest('https://kiln.test/sign-in')).headers.get('set-cookie') ?? '';
    expect(first).toMatch(/^kiln_csrf=[\w-]{32}; Path=\/; Secure; SameSite=lax$/);
    expect(first).not.toMatch(/HttpOnly/i);
    expect(first).not.toBe(second);
  });

  it('keeps an existing kiln_csrf cookie', () => {
    const request = new NextRequest('https://kiln.test/', { headers: { cookie: 'kiln_csrf=existing' } });
    expect(proxy(request).headers.get('set-cookie')).toBeNull();
  });
});
