import { describe, expect, it } from 'vitest';
import { clusterPerTest } from '../test/cluster.ts';

// A gateway that crashed and restarts registers its node again while a web process may be declaring
// that node lost. Whatever the timing, its kernels must share one fate: a busy kernel kept and an idle
// one stopped is what a person would see as "my idle kernel vanished in a restart".

const clusters = clusterPerTest();

/** Resolves once some statement of another session waits for a row lock. */
async function someoneWaitsForALock(): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const waiting = await clusters.database.db.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock'`;
    if (Number(waiting[0]?.n ?? 0) > 0) return;
    if (Date.now() > deadline) throw new Error('nothing waited for a lock within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('a node declared lost while its gateway registers again', () => {
  it('loses all of its containers or none, never some', async () => {
    const cluster = await clusters.start({ heartbeatTimeoutMs: 1000 });
    const c = cluster;
    await c.node('restarting', []);
    const ids: string[] = [];
    for (const owner of ['busy', 'idle-1', 'idle-2']) {
      const view = await c.scheduler.request({
        workspaceId: await c.workspace(),
        kind: 'kernel',
        ownerId: owner,
        resources: { cpu: 1, memoryMiB: 1024 },
      });
      expect(view.node?.id).toBe('restarting');
      await c.scheduler.markRunning(view.id);
      ids.push(view.id);
    }
    // The gateway went silent (killed), long enough ago to count as lost.
    await clusters.database.db.$executeRaw`
      UPDATE "Node" SET "heartbeatAt" = now() - interval '1 minute' WHERE id = 'restarting'`;

    // Someone else holds one container's row (a stop, a heartbeat's billing) while the loss is declared,
    // so the declaration is caught half-way when the restarted gateway registers.
    const held = [...ids].sort()[1] as string;
    let release = () => {};
    let locked = () => {};
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const holder = clusters.database.db.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT id FROM "Container" WHERE id = ${held}::uuid FOR UPDATE`;
        locked();
        await new Promise<void>((resolve) => {
          release = resolve;
        });
      },
      { timeout: 60_000 },
    );
    await isLocked;
    const declaring = c.scheduler.detectLostNodes();
    await someoneWaitsForALock();
    const registered = c.scheduler.registerNode({
      id: 'restarting',
      url: 'http://127.0.0.1:1/restarting',
      cpu: 64,
      memoryMiB: 256 * 1024,
      gpus: { source: 'none', devices: [] },
    });
    // The registration either goes through now or waits for the declaration; let the holder go either way.
    await Promise.race([registered, new Promise((resolve) => setTimeout(resolve, 2000))]);
    release();
    await holder;
    const [declared, again] = await Promise.all([declaring, registered]);

    const states = await Promise.all(ids.map(async (id) => (await c.scheduler.get(id)).state));
    expect(new Set(states).size, `containers ended ${states.join(', ')}`).toBe(1);
    // What the gateway is told to keep is exactly what the scheduler still counts as running there.
    const kept = ids.filter((_, index) => states[index] === 'running');
    expect(again.containers.filter((view) => view.state === 'running').map((view) => view.id)).toEqual(
      expect.arrayContaining(kept),
    );
    expect(again.containers.filter((view) => view.state === 'running')).toHaveLength(kept.length);
    // Every container declared lost was reported to the process that declared it (it tells the notebooks).
    expect(declared.containers.map((transition) => transition.containerId).sort()).toEqual(
      ids.filter((_, index) => states[index] === 'lost').sort(),
    );
  }, 60_000);
});
