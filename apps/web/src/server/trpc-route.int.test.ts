import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The route reads its configuration from the environment on first use, as it does in production.
let database: TestDatabase;
let route: typeof import('../app/api/trpc/[trpc]/route.ts');
let closeDb: () => Promise<void>;

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  process.env.APP_URL = 'https://kiln.test';
  route = await import('../app/api/trpc/[trpc]/route.ts');
  ({ closeDb } = await import('./db.ts'));
});

afterAll(async () => {
  await closeDb?.();
  await database?.drop();
});

const base = 'https://kiln.test/api/trpc';

function post(path: string, input: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return route.POST(
    new Request(`${base}/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-kiln-client-ip': '203.0.113.9', ...headers },
      body: JSON.stringify({ json: input }),
    }),
  );
}

function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return route.GET(new Request(`${base}/${path}`, { headers }));
}

const signedOut = { cookie: 'kiln_csrf=abc123', 'x-kiln-csrf': 'abc123' };
const account = { email: 'route@example.com', password: 'a long enough password', name: 'Route Tester' };

describe('tRPC route handler', () => {
  let sessionCookie = '';
  let csrfToken = '';

  it('signs up with the double-submit CSRF cookie and sets a Secure, httpOnly, Lax session cookie', async () => {
    const response = await post('auth.signUp', account, signedOut);
    expect(response.status).toBe(200);
    const setCookie = response.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^kiln_session=[^;]+; Path=\/; SameSite=Lax; Expires=.+; HttpOnly; Secure$/);
    sessionCookie = setCookie.split(';')[0] ?? '';
  });

  it('answers a sign-up the same for an address with an account and one without (sign-up by invitation)', async () => {
    // A stranger's probe from its own address, so the throttling of the tests below is not touched.
    const stranger = { ...signedOut, 'x-kiln-client-ip': '198.51.100.77' };
    const taken = await post('auth.signUp', { ...account, name: 'Someone' }, stranger);
    const free = await post('auth.signUp', { ...account, email: 'free@example.com' }, stranger);
    expect(taken.status).toBe(403);
    expect(free.status).toBe(taken.status);
    const [takenBody, freeBody] = [await taken.text(), await free.text()];
    expect(takenBody).toBe(freeBody);
    expect(takenBody).toContain('created from invitations');
    expect(taken.headers.get('set-cookie')).toBeNull();
  }, 60_000);

  it('refuses a signed-out mutation without a matching CSRF header', async () => {
    const response = await post('auth.signIn', account, {
      cookie: 'kiln_csrf=abc123',
      'x-kiln-csrf': 'other',
    });
    expect(response.status).toBe(403);
    expect(JSON.stringify(await response.json())).toContain('CSRF check failed');
  });

  it('recognises the session cookie', async () => {
    const response = await get('auth.me', { cookie: sessionCookie });
    const body = (await response.json()) as {
      result: { data: { json: { user: { email: string }; csrfToken: string } } };
    };
    expect(body.result.data.json.user.email).toBe(account.email);
    csrfToken = body.result.data.json.csrfToken;
    expect(csrfToken).toBeTruthy();
  });

  it('accepts an API token as a Bearer header without cookies', async () => {
    const workspaces = await get('workspace.list', { cookie: sessionCookie });
    const list = (await workspaces.json()) as { result: { data: { json: Array<{ id: string }> } } };
    const workspaceId = list.result.data.json[0]?.id;
    const created = await post(
      'apiToken.create',
      { workspaceId, name: 'test' },
      { cookie: sessionCookie, 'x-kiln-csrf': csrfToken },
    );
    expect(created.status).toBe(200);
    const { token } = ((await created.json()) as { result: { data: { json: { token: string } } } }).result
      .data.json;
    const viaToken = await get('workspace.list', { authorization: `Bearer ${token}` });
    expect(viaToken.status).toBe(200);
    const ids = (
      (await viaToken.json()) as { result: { data: { json: Array<{ id: string }> } } }
    ).result.data.json.map((w) => w.id);
    expect(ids).toContain(workspaceId);
  });

  it('answers 413 to a body over 1 MiB before parsing it', async () => {
    const response = await post(
      'auth.signIn',
      { email: 'x@example.com', password: 'p'.repeat(1024 * 1024 + 1) },
      signedOut,
    );
    expect(response.status).toBe(413);
  });

  it('lets notebook.importIpynb alone send more than 1 MiB, up to 52 MiB', async () => {
    const file = { workspaceId: 'ws', name: 'big', content: 'x'.repeat(2 * 1024 * 1024) };
    const alone = await post('notebook.importIpynb', file, signedOut);
    // Past the size check, the call reaches tRPC, which refuses a signed-out import like any other.
    expect(alone.status).toBe(401);
    expect(JSON.stringify(await alone.json())).toContain('UNAUTHORIZED');

    const tooBig = await post(
      'notebook.importIpynb',
      { ...file, content: 'x'.repeat(52 * 1024 * 1024) },
      signedOut,
    );
    expect(tooBig.status).toBe(413);
    expect(JSON.stringify(await tooBig.json())).toContain('larger than 52 MiB');
  });

  it('keeps 1 MiB for a batch that mixes an import with another procedure', async () => {
    const file = { workspaceId: 'ws', name: 'big', content: 'x'.repeat(2 * 1024 * 1024) };
    const response = await route.POST(
      new Request(`${base}/notebook.importIpynb,auth.signOut?batch=1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signedOut },
        body: JSON.stringify({ 0: { json: file }, 1: { json: {} } }),
      }),
    );
    expect(response.status).toBe(413);
    expect(JSON.stringify(await response.json())).toContain('larger than 1 MiB');
  });

  it('refuses a batch of 200 sign-in guesses, and counts parallel guesses before checking them', async () => {
    const paths = Array(200).fill('auth.signIn').join(',');
    const body = JSON.stringify(
      Object.fromEntries(Array.from({ length: 200 }, (_, i) => [i, { json: account }])),
    );
    const batch = await route.POST(
      new Request(`${base}/${paths}?batch=1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-kiln-client-ip': '203.0.113.77', ...signedOut },
        body,
      }),
    );
    expect(batch.status).toBe(400);
    expect(JSON.stringify(await batch.json())).toMatch(/at most 20 calls/);
    const pair = await route.POST(
      new Request(`${base}/auth.me,auth.signIn?batch=1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signedOut },
        body: JSON.stringify({ 0: { json: null }, 1: { json: account } }),
      }),
    );
    expect(pair.status).toBe(400);

    const guesses = await Promise.all(
      Array.from({ length: 25 }, () =>
        post(
          'auth.signIn',
          { email: account.email, password: 'a wrong password!' },
          {
            ...signedOut,
            'x-kiln-client-ip': '203.0.113.78',
          },
        ),
      ),
    );
    const statuses = guesses.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(20);
  }, 60_000);

  it('clears the cookie on sign-out', async () => {
    const response = await post('auth.signOut', {}, { cookie: sessionCookie, 'x-kiln-csrf': csrfToken });
    expect(response.status).toBe(200);
    expect(response.headers.get('set-cookie')).toMatch(
      /^kiln_session=; Path=\/; SameSite=Lax; Max-Age=0; HttpOnly; Secure$/,
    );
    const me = await get('auth.me', { cookie: sessionCookie });
    expect(((await me.json()) as { result: { data: { json: unknown } } }).result.data.json).toBeNull();
  });
});
