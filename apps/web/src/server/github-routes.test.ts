import { beforeAll, describe, expect, it } from 'vitest';

let start: typeof import('../app/api/auth/github/route.ts').GET;
let callback: typeof import('../app/api/auth/github/callback/route.ts').GET;

beforeAll(async () => {
  process.env.DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/unused';
  process.env.APP_URL = 'https://kiln.test';
  process.env.GITHUB_CLIENT_ID = 'client-id';
  process.env.GITHUB_CLIENT_SECRET = 'client-secret';
  ({ GET: start } = await import('../app/api/auth/github/route.ts'));
  ({ GET: callback } = await import('../app/api/auth/github/callback/route.ts'));
});

describe('GitHub sign-in routes', () => {
  it('redirects to GitHub with our callback URL and remembers state and destination in an httpOnly cookie', () => {
    const response = start(new Request('https://kiln.test/api/auth/github?next=/invite/abc'));
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location') ?? '');
    expect(location.origin).toBe('https://github.com');
    expect(location.searchParams.get('client_id')).toBe('client-id');
    expect(location.searchParams.get('redirect_uri')).toBe('https://kiln.test/api/auth/github/callback');
    const state = location.searchParams.get('state');
    const cookie = response.headers.get('set-cookie') ?? '';
    expect(cookie).toContain(`kiln_oauth_state=${encodeURIComponent(`${state} /invite/abc`)}`);
    expect(cookie).toMatch(/HttpOnly; Secure$/);
  });

  it('sends a callback with a forged state back to sign-in without a session', async () => {
    const response = await callback(
      new Request('https://kiln.test/api/auth/github/callback?code=c&state=forged', {
        headers: { cookie: `kiln_oauth_state=${encodeURIComponent('real /')}` },
      }),
    );
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('https://kiln.test/sign-in?error=github_state');
    expect(response.headers.get('set-cookie')).not.toContain('kiln_session');
  });
});
