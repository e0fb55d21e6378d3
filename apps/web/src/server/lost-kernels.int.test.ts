import { randomBytes } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { createScheduler, type Scheduler } from '@kiln/scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKernelAway } from './kernel-away.ts';
import { createLostKernels } from './lost-kernels.ts';

// The web process's list of kernels whose node was lost, over a real scheduler on real Postgres: the
// node comes back with one of them, and the other is given up.

let database: TestDatabase;
let scheduler: Scheduler;

beforeAll(async () => {
  database = await createTestDatabase({ max: 4 });
  scheduler = createScheduler({ db: database.db });
});
afterAll(async () => {
  await scheduler?.close();
  await database?.drop();
});

const register = (alive?: string[]) =>
  scheduler.registerNode({
    id: 'gw',
    url: 'http://127.0.0.1:2/gw',
    cpu: 8,
    memoryMiB: 8192,
    gpus: { source: 'none', devices: [] },
    ...(alive ? { alive } : {}),
  });

describe('lost kernels', () => {
  it('re-attaches the notebook whose kernel came back and tells the other why its kernel is gone', async () => {
    await register();
    const suffix = randomBytes(4).toString('hex');
    const ws = (await database.db.workspace.create({ data: { name: `ws ${suffix}`, slug: `ws-${suffix}` } }))
      .id;
    const start = async (notebookId: string) => {
      const view = await scheduler.request({
        workspaceId: ws,
        kind: 'kernel',
        ownerId: notebookId,
        resources: { cpu: 1, memoryMiB: 1024 },
      });
      return (await scheduler.markRunning(view.id)).id;
    };
    const kept = await start('nb-kept');
    const dropped = await start('nb-dropped');
    await database.db.$executeRaw`UPDATE "Node" SET "heartbeatAt" = now() - interval '1 minute'`;
    await scheduler.detectLostNodes();

    const back: string[] = [];
    const gone: [string, string, string][] = [];
    const lost = createLostKernels({
      scheduler,
      intervalMs: 60_000,
      onBack: async (notebookId, kernelId) => {
        back.push(`${notebookId}:${kernelId}`);
      },
      onGone: (notebookId, kernelId, reason) => gone.push([notebookId, kernelId, reason]),
    });
    try {
      lost.add('nb-kept', kept);
      lost.add('nb-dropped', dropped);
      // Still lost: nothing happens, both wait.
      await lost.check();
      expect(back).toEqual([]);
      expect(gone).toEqual([]);
      expect(lost.of('nb-kept')).toBe(kept);

      // The gateway restarted with one sandbox alive.
      await register([kept]);
      await lost.check();
      expect(back).toEqual([`nb-kept:${kept}`]);
      expect(gone).toEqual([['nb-dropped', dropped, expect.stringMatching(/came back without this kernel/)]]);
      expect(lost.of('nb-kept')).toBeUndefined();
      expect(lost.of('nb-dropped')).toBeUndefined();
      await lost.check();
      expect(back).toHaveLength(1);
    } finally {
      await lost.close();
    }
  });

  it('says from the database which kernels wait for their machine, so a restarted web process keeps waiting', async () => {
    await register();
    const suffix = randomBytes(4).toString('hex');
    const ws = (await database.db.workspace.create({ data: { name: `ws ${suffix}`, slug: `ws-${suffix}` } }))
      .id;
    const start = async (notebookId: string) => {
      const view = await scheduler.request({
        workspaceId: ws,
        kind: 'kernel',
        ownerId: notebookId,
        resources: { cpu: 1, memoryMiB: 1024 },
      });
      return (await scheduler.markRunning(view.id)).id;
    };
    const kept = await start('nb-away-kept');
    const dropped = await start('nb-away-dropped');
    // A fresh process (nothing in memory) asks the database: a running kernel is not away.
    const away = createKernelAway(scheduler, 300_000);
    expect(await away(kept)).toBeNull();

    await database.db.$executeRaw`UPDATE "Node" SET "heartbeatAt" = now() - interval '1 minute'`;
    await scheduler.detectLostNodes();
    for (const id of [kept, dropped]) {
      const reason = await away(id);
      expect(reason).toMatch(/^The machine running this kernel stopped answering \(Lost: .*gw/);
      expect(reason).toContain('Kiln waits up to 5 min');
    }

    // Its node came back with one of them: that one runs again, the other was given up.
    await register([kept]);
    expect(await away(kept)).toBeNull();
    expect(await away(dropped)).toBeNull();
    expect(await away('no-such-kernel')).toBeNull();
  });
});
