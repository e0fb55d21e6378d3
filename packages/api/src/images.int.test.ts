import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestDatabase } from '@kiln/db/testing';
import type { ExecutionService } from '@kiln/execution';
import { createImageStore } from '@kiln/images/store';
import { buildWheel, servePackageIndex } from '@kiln/kernel-gateway/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTeam, type Team, withDatabase } from '../test/harness.ts';
import { codeNotebook, startKernels } from '../test/kernels.ts';

// A workspace image defined through the API, built by a real gateway (Debian package from this
// machine's apt sources, a wheel from an index this test serves), chosen for a notebook whose cells
// then run in a runsc kernel on it; a failed edit keeps the build kernels use.

let t: TestDatabase;
let team: Team;
let execution: ExecutionService;
let index: Awaited<ReturnType<typeof servePackageIndex>>;
let close: () => Promise<void> = async () => {};
const wheelDir = mkdtempSync(join(tmpdir(), 'kiln-api-wheels-'));
const marker = `probe-${randomUUID().slice(0, 8)}`;

type Api = Team['browsers']['editor']['api'];

/** Follows the build log as the page does, until the build is over. */
async function followBuild(api: Api, workspaceId: string, imageId: string) {
  let offset = 0;
  let log = '';
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    const followed = await api.image.follow({ workspaceId, imageId, offset });
    log += followed.log;
    offset = followed.next;
    if (followed.image.state !== 'building') return { image: followed.image, log };
    if (Date.now() > deadline) throw new Error(`still building:\n${log}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function outputsOf(api: Api, workspaceId: string, notebookId: string): Promise<string[]> {
  const exported = await api.notebook.exportIpynb({ workspaceId, notebookId });
  return (JSON.parse(exported.content).cells as { outputs: unknown[] }[]).map((cell) =>
    JSON.stringify(cell.outputs),
  );
}

beforeAll(async () => {
  buildWheel(wheelDir, {
    name: 'kiln-probe',
    version: '0.1',
    module: 'kiln_probe',
    source: `VALUE = ${JSON.stringify(marker)}\n`,
  });
  index = await servePackageIndex(wheelDir);
  t = await withDatabase({ max: 6 });
  const kernels = await startKernels(t.db, { images: true, pipIndexUrl: index.url });
  execution = kernels.execution;
  close = kernels.close;
  const images = createImageStore({ db: t.db, gateway: async (id) => kernels.imageGateway(id) });
  team = await createTeam(t.db, { documents: kernels.documents, execution, images });
}, 900_000);

afterAll(async () => {
  await close();
  await index?.close();
  await t?.drop();
  await rm(wheelDir, { recursive: true, force: true });
});

describe('workspace images through the API', () => {
  it('defines an image, streams its build, and runs a notebook on it; a failed edit keeps the build', async () => {
    const workspaceId = team.workspace.id;
    const editor = team.browsers.editor.api;
    const created = await editor.image.create({
      workspaceId,
      name: 'probe',
      debian: ['hello'],
      python: ['kiln-probe==0.1'],
    });
    expect(created.state).toBe('building');
    const built = await followBuild(editor, workspaceId, created.id);
    expect(built.image.state, built.log).toBe('ready');
    expect(built.log).toContain('Successfully installed kiln-probe-0.1');
    expect(built.image.sizeBytes).toBeGreaterThan(0);
    // Viewers see the image and what it adds, and may not change it.
    const listed = await team.browsers.viewer.api.image.list({ workspaceId });
    expect(listed.map((image) => [image.name, image.state])).toEqual([['probe', 'ready']]);
    await expect(
      team.browsers.viewer.api.image.rebuild({ workspaceId, imageId: created.id }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });

    const { id: notebookId } = await editor.notebook.importIpynb({
      workspaceId,
      name: 'On an image',
      content: codeNotebook([
        'import kiln_probe\nprint(kiln_probe.VALUE)',
        "import subprocess\nprint(subprocess.run(['hello'], capture_output=True, text=True).stdout)",
      ]),
    });
    await editor.image.setForNotebook({ workspaceId, notebookId, imageId: created.id });
    expect((await editor.notebook.get({ workspaceId, notebookId })).resources.image).toEqual({
      id: created.id,
      name: 'probe',
    });
    await editor.notebook.run({ workspaceId, notebookId, mode: 'all' });
    await execution.whenIdle(notebookId);
    const outputs = await outputsOf(editor, workspaceId, notebookId);
    expect(outputs[0]).toContain(marker);
    expect(outputs[1]).toContain('Hello, world!');

    // The same packages in another image: the gateway has them built already (no download, no build).
    const copy = await editor.image.create({
      workspaceId,
      name: 'probe copy',
      debian: ['hello'],
      python: ['kiln-probe==0.1'],
    });
    expect(copy.state).toBe('ready');
    expect(index.downloads()).toBe(1);

    // A broken edit fails with apt's reason; kernels keep the build that worked.
    await editor.image.update({
      workspaceId,
      imageId: created.id,
      debian: ['hello', 'kiln-no-such-package'],
    });
    const failed = await followBuild(editor, workspaceId, created.id);
    expect(failed.image.state).toBe('failed');
    expect(failed.image.error).toMatch(/Unable to locate package kiln-no-such-package/);
    expect(failed.image.usable).toBe(true);
    expect(failed.image.built).toEqual({ debian: ['hello'], python: ['kiln-probe==0.1'] });
    await editor.notebook.shutdownKernel({ workspaceId, notebookId });
    await editor.notebook.run({ workspaceId, notebookId, mode: 'all' });
    await execution.whenIdle(notebookId);
    expect((await outputsOf(editor, workspaceId, notebookId))[0]).toContain(marker);
  }, 900_000);

  it("refuses another workspace's image and an image that never built, saying why", async () => {
    const workspaceId = team.workspace.id;
    const editor = team.browsers.editor.api;
    const other = await t.db.workspaceImage.create({
      data: { workspaceId: team.otherWorkspace.id, name: 'theirs', debian: ['hello'], python: [] },
    });
    await expect(
      editor.image.setForNotebook({ workspaceId, notebookId: team.notebookId, imageId: other.id }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const unbuilt = await t.db.workspaceImage.create({
      data: { workspaceId, name: 'unbuilt', debian: ['hello'], python: [], buildState: 'failed' },
    });
    await editor.image.setForNotebook({ workspaceId, notebookId: team.notebookId, imageId: unbuilt.id });
    await expect(
      editor.notebook.run({ workspaceId, notebookId: team.notebookId, mode: 'all' }),
    ).rejects.toMatchObject({ message: expect.stringMatching(/Image "unbuilt" failed to build/) });
    await expect(
      editor.image.create({ workspaceId, name: 'bad', python: ['--extra-index-url=http://x/'] }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  }, 120_000);
});
