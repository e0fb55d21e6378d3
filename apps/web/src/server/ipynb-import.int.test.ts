import { createCollabServer } from '@kiln/collab';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIpynbReader } from './ipynb-reader/reader-pool.ts';
import { setNotebookServices } from './notebook-services-slot.ts';

// The real tRPC route with the process's services as server.ts registers them: an import whose file
// takes seconds to read must not hold up anyone else's request.
let database: TestDatabase;
let route: typeof import('../app/api/trpc/[trpc]/route.ts');
let closeDb: () => Promise<void>;
const collab = createCollabServer({ onError: () => {}, unloadDelayMs: 0 });
const reader = createIpynbReader({ workers: 2 });

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  process.env.APP_URL = 'https://kiln.test';
  setNotebookServices({
    documents: { open: (id) => collab.openDirectConnection(id) },
    executionService: null,
    onAccessChanged: () => {},
    ipynbReader: reader,
  });
  route = await import('../app/api/trpc/[trpc]/route.ts');
  ({ closeDb } = await import('./db.ts'));
});

afterAll(async () => {
  setNotebookServices(undefined);
  await reader.close();
  await collab.close();
  await closeDb?.();
  await database?.drop();
});

const base = 'https://kiln.test/api/trpc';
const headers = { 'content-type': 'application/json', 'x-kiln-client-ip': '203.0.113.20' };

/** A valid notebook that takes seconds to read on this machine: many cells of nested values. */
function heavyNotebook(cells: number): string {
  const cell = (i: number) => ({
    cell_type: 'code',
    id: `c${i}`,
    metadata: { tags: ['a', 'b'], extra: { nested: [1, 2, { x: 'y' }] } },
    source: ['print(1)\n', 'x = 2\n'],
    outputs: [{ output_type: 'stream', name: 'stdout', text: ['a\n', 'b\n'] }],
    execution_count: i,
  });
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: Array.from({ length: cells }, (_, i) => cell(i)),
  });
}

describe('importing a notebook through the route', () => {
  it('answers another request at once while a file that takes seconds to read is imported', async () => {
    const signUp = await route.POST(
      new Request(`${base}/auth.signUp`, {
        method: 'POST',
        headers: { ...headers, cookie: 'kiln_csrf=t', 'x-kiln-csrf': 't' },
        body: JSON.stringify({
          json: { email: 'importer@kiln.test', password: 'a long enough password', name: 'Importer' },
        }),
      }),
    );
    expect(signUp.status).toBe(200);
    const cookie = (signUp.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const { csrfToken, personalWorkspace } = (
      (await signUp.json()) as {
        result: { data: { json: { csrfToken: string; personalWorkspace: { id: string } } } };
      }
    ).result.data.json;

    let imported = false;
    const importing = route
      .POST(
        new Request(`${base}/notebook.importIpynb`, {
          method: 'POST',
          headers: { ...headers, cookie, 'x-kiln-csrf': csrfToken },
          body: JSON.stringify({
            json: { workspaceId: personalWorkspace.id, name: 'Heavy', content: heavyNotebook(8_000) },
          }),
        }),
      )
      .finally(() => {
        imported = true;
      });

    // Another request while the file is read: answered promptly, before the import is done.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = performance.now();
    const me = await route.GET(new Request(`${base}/auth.me`, { headers: { ...headers, cookie } }));
    const tookMs = performance.now() - started;
    expect(me.status).toBe(200);
    expect(imported).toBe(false);
    expect(tookMs).toBeLessThan(1_000);

    const response = await importing;
    expect(response.status).toBe(200);
    const notebooks = await database.db.notebook.findMany({ where: { workspaceId: personalWorkspace.id } });
    expect(notebooks.map((notebook) => notebook.name)).toEqual(['Heavy']);
  }, 120_000);
});
