import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { volumeMounts } from './volume-mounts.ts';
import { createVolumes } from './volume-store.ts';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

async function workspaceWithNotebook(plan: 'STARTER' | 'TEAM' = 'STARTER') {
  const workspace = await t.db.workspace.create({
    data: { name: 'Team', slug: `team-${randomUUID().slice(0, 8)}`, plan },
  });
  const notebook = await t.db.notebook.create({ data: { workspaceId: workspace.id, name: 'nb' } });
  return { workspace, notebook };
}

const actor = { userId: null, ip: '10.0.0.1' };

describe('named volumes', { timeout: 60_000 }, () => {
  it('creates volumes with the plan quota, mounts them by name, and audits changes', async () => {
    const volumes = createVolumes({ db: t.db });
    const { workspace, notebook } = await workspaceWithNotebook('TEAM');
    const data = await volumes.create(workspace.id, actor, 'data');
    await volumes.create(workspace.id, actor, 'models');
    expect(data).toMatchObject({ name: 'data', quotaMiB: 100 * 1024 });
    expect((await volumes.list(workspace.id)).map((volume) => volume.name)).toEqual(['data', 'models']);
    await expect(volumes.create(workspace.id, actor, 'data')).rejects.toMatchObject({ code: 'CONFLICT' });
    for (const bad of ['Data', '-x', 'a/b', '..', '', 'x'.repeat(64)])
      await expect(volumes.create(workspace.id, actor, bad), bad).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });

    await volumes.setForNotebook(workspace.id, notebook.id, [{ volumeId: data.id, readOnly: true }]);
    expect(await volumes.mountsForNotebook(workspace.id, notebook.id)).toEqual([
      { id: data.id, name: 'data', target: '/vol/data', readOnly: true, quotaMiB: 100 * 1024 },
    ]);
    // What endpoints use: names to mount specs.
    expect(await volumes.mounts(workspace.id, [{ name: 'models' }])).toMatchObject([
      { name: 'models', target: '/vol/models', readOnly: false },
    ]);
    const actions = await t.db.auditLog.findMany({
      where: { workspaceId: workspace.id },
      select: { action: true },
    });
    expect(actions.map((entry) => entry.action).sort()).toEqual(['volume.created', 'volume.created']);
    await volumes.remove(workspace.id, actor, data.id);
    expect(await volumes.mountsForNotebook(workspace.id, notebook.id)).toEqual([]);
  });

  it("never resolves another workspace's volumes, and refuses unknown or repeated names", async () => {
    const volumes = createVolumes({ db: t.db });
    const mine = await workspaceWithNotebook();
    const theirs = await workspaceWithNotebook();
    const secret = await volumes.create(theirs.workspace.id, actor, 'secret');
    await expect(volumeMounts(t.db, mine.workspace.id, [{ name: 'secret' }])).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(
      volumes.setForNotebook(mine.workspace.id, mine.notebook.id, [{ volumeId: secret.id, readOnly: false }]),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(volumes.remove(mine.workspace.id, actor, secret.id)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(volumes.notebookVolumes(mine.workspace.id, theirs.notebook.id)).resolves.toEqual([]);
    await volumes.create(mine.workspace.id, actor, 'mine');
    await expect(
      volumeMounts(t.db, mine.workspace.id, [{ name: 'mine' }, { name: 'mine', readOnly: true }]),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await t.db.volume.count({ where: { id: secret.id } })).toBe(1);
  });

  it("holds the plan's number of volumes, even when creations race", async () => {
    const volumes = createVolumes({ db: t.db, limits: { STARTER: 3 } });
    const { workspace } = await workspaceWithNotebook();
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => volumes.create(workspace.id, actor, `v${i}`)),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(3);
    const refused = results.find((result) => result.status === 'rejected');
    expect(refused).toMatchObject({ reason: { code: 'QUOTA_EXCEEDED' } });
    expect(await t.db.volume.count({ where: { workspaceId: workspace.id } })).toBe(3);
  });
});
