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

  it('sends a fresh nonce-based CSP with every page, and gives Next the same nonce', () => {
    const first = proxy(new NextRequest('https://kiln.test/w/team'));
    const second = proxy(new NextRequest('https://kiln.test/w/team'));
    const policy = first.headers.get('content-security-policy') ?? '';
    const nonce = policy.match(/'nonce-([A-Za-z0-9+/=]+)'/)?.[1];
    expect(nonce).toHaveLength(24);
    expect(policy).toContain(`script-src 'self' 'nonce-${nonce}' 'strict-dynamic'`);
    expect(policy).not.toContain('unsafe-eval');
    expect(policy).toContain(`img-src 'self' data: blob:`);
    expect(policy).toContain(`frame-ancestors 'none'`);
    expect(first.headers.get('x-middleware-request-x-nonce')).toBe(nonce);
    expect(second.headers.get('content-security-policy')).not.toBe(policy);
  });

  it('keeps an existing kiln_csrf cookie', () => {
    const request = new NextRequest('https://kiln.test/', { headers: { cookie: 'kiln_csrf=existing' } });
    expect(proxy(request).headers.get('set-cookie')).toBeNull();
  });
});
