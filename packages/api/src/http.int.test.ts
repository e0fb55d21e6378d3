import type { TestDatabase } from '@kiln/db/testing';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, createTeam, withDatabase } from '../test/harness.ts';
import { createContext } from './context.ts';
import { appRouter } from './root.ts';

let t: TestDatabase;
beforeAll(async () => {
  t = await withDatabase();
});
afterAll(async () => {
  await t?.drop();
});

const JSON_HEADERS = { 'content-type': 'application/json' };

/** Serves one request the way apps/web does, through tRPC's fetch adapter. */
async function serve(browser: Browser, request: Request) {
  const options = await browser.contextOptions();
  const response = await fetchRequestHandler({
    endpoint: '/api/trpc',
    req: request,
    router: appRouter,
    createContext: () => createContext(options),
  });
  return {
    status: response.status,
    body: (await response.json()) as { error: { json: { message: string; data: Record<string, unknown> } } },
  };
}

describe('over HTTP', () => {
  it('answers bad input with 400, a human message and field errors, and never a stack', async () => {
    const team = await createTeam(t.db);
    const owner = team.browsers.owner;
    const body = JSON.stringify({ json: { workspaceId: team.workspace.id, name: 'x'.repeat(201) } });
    const { status, body: json } = await serve(
      owner,
      new Request('http://kiln.test/api/trpc/notebook.create', {
        method: 'POST',
        body,
        headers: JSON_HEADERS,
      }),
    );
    expect(status).toBe(400);
    expect(json.error.json.message).toBe('name: Notebook name must be at most 200 characters');
    expect(json.error.json.data.fieldErrors).toEqual({
      name: ['Notebook name must be at most 200 characters'],
    });
    expect(JSON.stringify(json)).not.toContain('.ts:');
  });

  it('answers malformed JSON with a 4xx and non-members with 404', async () => {
    const team = await createTeam(t.db);
    const malformed = await serve(
      team.browsers.owner,
      new Request('http://kiln.test/api/trpc/notebook.create', {
        method: 'POST',
        body: '{"json": {',
        headers: JSON_HEADERS,
      }),
    );
    expect(malformed.status).toBeGreaterThanOrEqual(400);
    expect(malformed.status).toBeLessThan(500);

    const input = encodeURIComponent(JSON.stringify({ json: { workspaceId: team.workspace.id } }));
    const outsider = await serve(
      team.browsers.outsider,
      new Request(`http://kiln.test/api/trpc/notebook.list?input=${input}`),
    );
    expect(outsider.status).toBe(404);
    expect(outsider.body.error.json.message).toBe('Workspace not found');

    const limited = await serve(
      team.browsers.signedOut,
      new Request(`http://kiln.test/api/trpc/notebook.list?input=${input}`),
    );
    expect(limited.status).toBe(401);
  });
});
