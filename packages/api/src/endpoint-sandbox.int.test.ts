import type { TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTeam, type Team, withDatabase } from '../test/harness.ts';
import { createTestServices, type TestServices } from '../test/services.ts';

// What a deploy stores about the sandbox of its replicas. These services run no gateway, so smoke tests
// fail to start; the version (and what it records) exists all the same. Replicas starting with it are
// tested in apps/web's endpoints.int.test.ts with runsc.
let t: TestDatabase;
let services: TestServices;
let team: Team;
beforeAll(async () => {
  t = await withDatabase({ max: 4 });
  services = createTestServices(undefined, { db: t.db });
  team = await createTeam(t.db, services.services);
});
afterAll(async () => {
  await services?.close();
  await t?.drop();
});

const SOURCE = 'import os\n\ndef key():\n    return os.environ["API_KEY"][:2]\n';

describe('what a deployed version runs with', () => {
  it("defaults to the function file's secrets, volumes and image, takes the dialog's choice over them, and refuses an image that has not built", async () => {
    const workspaceId = team.workspace.id;
    const owner = team.browsers.owner.api;
    const api = team.browsers.editor.api;
    const file = await api.functionFile.create({ workspaceId, name: 'keys.py', source: SOURCE });
    const secret = await owner.secret.create({ workspaceId, name: 'api', values: { API_KEY: 'k-secret-1' } });
    const volume = await api.volume.create({ workspaceId, name: 'shared' });
    await api.secret.setForNotebook({ workspaceId, notebookId: file.id, secretIds: [secret.id] });
    await api.volume.setForNotebook({
      workspaceId,
      notebookId: file.id,
      volumes: [{ volumeId: volume.id, readOnly: true }],
    });
    const endpoint = await api.endpoint.create({ workspaceId, label: 'keys' });
    const deploy = (sandbox?: { imageId: string | null; secretIds: string[]; volumes: [] }) =>
      api.endpoint.deploySource({
        workspaceId,
        endpointId: endpoint.id,
        fileId: file.id,
        source: SOURCE,
        functionName: 'key',
        sampleInput: {},
        ...(sandbox ? { sandbox } : {}),
      });

    const first = await deploy();
    expect(first.sandbox).toEqual({
      image: null,
      secrets: [{ id: secret.id, name: 'api' }],
      volumes: [{ name: 'shared', readOnly: true }],
    });
    const second = await deploy({ imageId: null, secretIds: [], volumes: [] });
    expect(second.sandbox).toEqual({ image: null, secrets: [], volumes: [] });
    // Immutable: changing the file's secrets later does not change version 1.
    await api.secret.setForNotebook({ workspaceId, notebookId: file.id, secretIds: [] });
    const page = await api.endpoint.get({ workspaceId, endpointId: endpoint.id });
    expect(page.versions.find((v) => v.number === 1)?.sandbox.secrets).toEqual([
      { id: secret.id, name: 'api' },
    ]);

    // An image with no build yet (no gateway here builds it): refused with the reason, no version made.
    const image = await api.image.create({ workspaceId, name: 'extra', debian: ['hello'] });
    await expect(deploy({ imageId: image.id, secretIds: [], volumes: [] })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(/Image "extra" (is still building|failed to build)/),
    });
    expect(await t.db.endpointVersion.count({ where: { endpointId: endpoint.id } })).toBe(2);

    // The deploy's audit entry names what it runs with (never a value).
    const audited = await t.db.auditLog.findFirstOrThrow({
      where: { workspaceId, action: 'endpoint.deployed' },
      orderBy: { createdAt: 'asc' },
    });
    expect(audited.metadata).toMatchObject({ image: null, secrets: ['api'], volumes: ['shared'] });
    expect(JSON.stringify(audited.metadata)).not.toContain('k-secret-1');
  });

  it('audits a settings change with each changed field before and after, and a refused one changes nothing', async () => {
    const workspaceId = team.workspace.id;
    const api = team.browsers.editor.api;
    const endpoint = await api.endpoint.create({ workspaceId, label: 'scaling' });
    await expect(
      api.endpoint.update({
        workspaceId,
        endpointId: endpoint.id,
        settings: { minReplicas: 5, maxReplicas: 2 },
      }),
    ).rejects.toMatchObject({ message: 'Minimum replicas cannot be above maximum replicas' });
    const updated = await api.endpoint.update({
      workspaceId,
      endpointId: endpoint.id,
      settings: { minReplicas: 1, scaleDownSeconds: 300, timeoutSeconds: 150 },
    });
    expect(updated.settings).toMatchObject({ minReplicas: 1, maxReplicas: 4, scaleDownSeconds: 300 });
    const entries = await t.db.auditLog.findMany({
      where: { workspaceId, action: 'endpoint.settings_changed', target: 'scaling' },
    });
    expect(entries.map((entry) => entry.metadata)).toEqual([
      { changes: { minReplicas: [0, 1], scaleDownSeconds: [60, 300] } },
    ]);
    expect(entries[0]?.actorId).toBe(team.users.editor.id);
  });
});
