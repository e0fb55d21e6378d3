import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDb, type Db } from '@kiln/db';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '@kiln/db/embedded';
import { applyMigrations } from '@kiln/db/migrate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverGpus } from './gpu-inventory.ts';
import { createScheduler } from './scheduler.ts';

// `npm start` runs on the embedded PGlite: the scheduler's SQL (row locks, advisory locks, transaction
// ids for the event cursor) must work there as on Postgres.
let dir: string;
let server: EmbeddedPostgres;
let db: Db;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-scheduler-pglite-'));
  server = await startEmbeddedPostgres({ dataDir: join(dir, 'pgdata') });
  await applyMigrations(server.url);
  db = createDb(server.url, { max: 3 });
}, 120_000);
afterAll(async () => {
  await db?.$disconnect();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('on the embedded database', () => {
  it('places one kernel, queues the next, hands it the GPU when the first stops, and reads events after a cursor', async () => {
    const scheduler = createScheduler({ db });
    await scheduler.registerNode({
      id: 'local',
      url: 'http://127.0.0.1:1',
      cpu: 4,
      memoryMiB: 8192,
      gpus: await discoverGpus({ declared: [{ type: 'T4', count: 1 }] }),
    });
    const ws = await db.workspace.create({ data: { name: 'Embedded', slug: 'embedded' } });
    const ask = (owner: string) =>
      scheduler.request({
        workspaceId: ws.id,
        kind: 'kernel',
        ownerId: owner,
        resources: { cpu: 1, memoryMiB: 1024, gpu: 'T4' },
      });
    const [first, second] = await Promise.all([ask('a'), ask('b')]);
    const states = [first?.state, second?.state].sort();
    expect(states).toEqual(['queued', 'starting']);
    const running = first?.state === 'starting' ? first : second;
    const waiting = first?.state === 'queued' ? first : second;
    if (!running || !waiting) throw new Error('expected one placed and one queued');
    expect(waiting.queue?.reason).toBe('waiting for a T4: 0 ahead');
    await scheduler.stop(running.id);
    expect(await scheduler.waitForPlacement(waiting.id)).toMatchObject({
      state: 'starting',
      gpu: { indices: [0] },
    });
    const page = await scheduler.eventsAfter(null);
    expect(page.events.map((event) => event.to).sort()).toEqual([
      'queued',
      'starting',
      'starting',
      'stopped',
    ]);
    expect((await scheduler.eventsAfter(page.cursor)).events).toEqual([]);
    await scheduler.close();
  });
});
