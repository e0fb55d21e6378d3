import { createNotebook, createSession, signUp, TEST_PASSWORD_HASH_OPTIONS } from '@kiln/accounts';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { createPostgresOverflowStore, type ExecutionService } from '@kiln/execution';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setNotebookServices } from './notebook-services-slot.ts';

let database: TestDatabase;
let route: typeof import('../app/api/notebooks/[notebookId]/outputs/[key]/route.ts');
let closeDb: () => Promise<void>;
let notebookId: string;
let otherNotebookId: string;
const cookies = { member: '', stranger: '' };

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  const { db } = database;
  const options = { passwordHash: TEST_PASSWORD_HASH_OPTIONS };
  const member = await signUp(
    db,
    { email: 'm@kiln.test', password: 'a long enough password', name: 'M' },
    options,
  );
  const stranger = await signUp(
    db,
    { email: 's@kiln.test', password: 'a long enough password', name: 'S' },
    options,
  );
  const workspaceId = member.personalWorkspace.id;
  ({ id: notebookId } = await createNotebook(db, { workspaceId, name: 'A', createdById: member.user.id }));
  ({ id: otherNotebookId } = await createNotebook(db, {
    workspaceId,
    name: 'B',
    createdById: member.user.id,
  }));
  cookies.member = `kiln_session=${(await createSession(db, { userId: member.user.id })).token}`;
  cookies.stranger = `kiln_session=${(await createSession(db, { userId: stranger.user.id })).token}`;
  const limits = { maxNotebookBytes: 1024 * 1024, maxEntryBytes: 1024 * 1024 };
  const saver = createPostgresOverflowStore(db, limits);
  saver.put(notebookId, {
    cellId: 'c1',
    key: 'c1-key-1',
    kind: 'stream',
    text: 'all 12 MB of it',
    totalBytes: 15,
  });
  // Only the overflow store is read by this route; it is the real one, and a different instance from
  // the one that saved the output (as after a restart of the web server).
  await saver.get(notebookId, 'c1-key-1');
  const overflow = createPostgresOverflowStore(db, limits);
  const executionService = { overflow } as unknown as ExecutionService;
  setNotebookServices({
    documents: { open: () => Promise.reject(new Error('unused')) },
    executionService,
    onAccessChanged: () => {},
  });
  route = await import('../app/api/notebooks/[notebookId]/outputs/[key]/route.ts');
  ({ closeDb } = await import('./db.ts'));
});

afterAll(async () => {
  setNotebookServices(undefined);
  await closeDb?.();
  await database?.drop();
});

function download(notebook: string, key: string, cookie?: string): Promise<Response> {
  const request = new Request(`http://kiln.test/api/notebooks/${notebook}/outputs/${key}`, {
    headers: cookie ? { cookie } : {},
  });
  return route.GET(request, { params: Promise.resolve({ notebookId: notebook, key }) });
}

describe('GET /api/notebooks/<id>/outputs/<key>', () => {
  it('gives a workspace member the full output as a download', async () => {
    const response = await download(notebookId, 'c1-key-1', cookies.member);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('all 12 MB of it');
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="output-c1.txt"');
  });

  it('asks signed-out callers to sign in', async () => {
    expect((await download(notebookId, 'c1-key-1')).status).toBe(401);
  });

  it('answers 404 to non-members and for a key of another notebook', async () => {
    expect((await download(notebookId, 'c1-key-1', cookies.stranger)).status).toBe(404);
    expect((await download(otherNotebookId, 'c1-key-1', cookies.member)).status).toBe(404);
    expect((await download(notebookId, 'no-such-key', cookies.member)).status).toBe(404);
  });
});
