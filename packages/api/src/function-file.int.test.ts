import type { TestDatabase } from '@kiln/db/testing';
import {
  FUNCTION_CALL_CELL,
  FUNCTION_MODULE_CELL,
  findCell,
  functionModuleSource,
  getCells,
} from '@kiln/notebook';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Y from 'yjs';
import { createTeam, outcome, type Team, withDatabase } from '../test/harness.ts';
import { createTestServices, type TestServices } from '../test/services.ts';
import { withDocument } from './services.ts';

let t: TestDatabase;
let services: TestServices;
let team: Team;
beforeAll(async () => {
  t = await withDatabase({ max: 4 });
  services = createTestServices();
  team = await createTeam(t.db, services.services);
});
afterAll(async () => {
  await services?.close();
  await t?.drop();
});

const MODULE = 'import math\n\ndef area(radius):\n    return math.pi * radius ** 2\n';

/** What the live document of a file holds: each cell's id and source, and the call cell's run note. */
async function content(notebookId: string) {
  return withDocument(
    services.services.documents as NonNullable<typeof services.services.documents>,
    notebookId,
    (c) => ({
      cells: getCells(c.document).map((cell) => [cell.get('id'), String(cell.get('source'))]),
      module: functionModuleSource(c.document),
      run: (findCell(c.document, FUNCTION_CALL_CELL)?.get('metadata') as Y.Map<unknown> | undefined)?.get(
        'kiln_run',
      ),
    }),
  );
}

async function editModule(notebookId: string, source: string): Promise<void> {
  const documents = services.services.documents as NonNullable<typeof services.services.documents>;
  await withDocument(documents, notebookId, (c) =>
    c.transact((doc) => {
      const text = findCell(doc, FUNCTION_MODULE_CELL)?.get('source') as Y.Text;
      text.delete(0, text.length);
      text.insert(0, source);
    }),
  );
}

const runsOf = (notebookId: string) =>
  services.execution.calls.filter((call) => call.method === 'run' && call.notebookId === notebookId);

describe('function files', () => {
  it('are created with their module, listed next to notebooks, renamed and deleted like them', async () => {
    const api = team.browsers.editor.api;
    const workspaceId = team.workspace.id;
    const file = await api.functionFile.create({ workspaceId, name: 'geometry.py', source: MODULE });
    expect(file).toMatchObject({ name: 'geometry.py', kind: 'function' });
    expect(await content(file.id)).toMatchObject({
      cells: [
        [FUNCTION_MODULE_CELL, MODULE],
        [FUNCTION_CALL_CELL, ''],
      ],
    });
    const listed = await team.browsers.viewer.api.notebook.list({ workspaceId });
    expect(listed.map((item) => [item.name, item.kind]).sort()).toEqual([
      ['Analysis', 'notebook'],
      ['geometry.py', 'function'],
    ]);
    expect(await api.notebook.get({ workspaceId, notebookId: file.id })).toMatchObject({ kind: 'function' });

    await api.notebook.rename({ workspaceId, notebookId: file.id, name: 'shapes.py' });
    expect((await api.notebook.list({ workspaceId })).find((item) => item.id === file.id)?.name).toBe(
      'shapes.py',
    );
    await api.notebook.delete({ workspaceId, notebookId: file.id });
    expect((await api.notebook.list({ workspaceId })).map((item) => item.id)).not.toContain(file.id);
  });

  it('cannot be scheduled (a headless run all would only repeat the last call), and nothing is saved', async () => {
    const api = team.browsers.editor.api;
    const workspaceId = team.workspace.id;
    const file = await api.functionFile.create({ workspaceId, name: 'nightly.py', source: MODULE });
    const refused = await api.schedule
      .create({ workspaceId, notebookId: file.id, timing: { kind: 'period', seconds: 3600 } })
      .catch((error: { code: string; message: string }) => error);
    expect(refused).toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringContaining('function file cannot be scheduled'),
    });
    expect(await t.db.notebookSchedule.count({ where: { notebookId: file.id } })).toBe(0);
  });

  it('start from an example module with a function to run when no source is given', async () => {
    const file = await team.browsers.editor.api.functionFile.create({
      workspaceId: team.workspace.id,
      name: 'new.py',
    });
    expect((await content(file.id)).module).toMatch(/^def greet\(/);
  });

  it('run a function: the call cell gets the call and the module and call cells are queued', async () => {
    const api = team.browsers.editor.api;
    const workspaceId = team.workspace.id;
    const file = await api.functionFile.create({ workspaceId, name: 'run.py', source: MODULE });
    await api.notebook.setResources({
      workspaceId,
      notebookId: file.id,
      cpu: 0.5,
      memoryMiB: 1024,
      gpu: null,
    });
    const ticket = await api.functionFile.run({
      workspaceId,
      notebookId: file.id,
      functionName: 'area',
      args: { radius: 2 },
    });
    expect(ticket.cellIds).toEqual([FUNCTION_MODULE_CELL, FUNCTION_CALL_CELL]);
    expect(runsOf(file.id).map((call) => call.args)).toEqual([
      expect.objectContaining({
        target: { kind: 'cells', cellIds: [FUNCTION_MODULE_CELL, FUNCTION_CALL_CELL] },
        user: { userId: team.users.editor.id, name: 'editor' },
        resources: { cpu: 0.5, memoryMiB: 1024, gpu: null },
      }),
    ]);
    const after = await content(file.id);
    expect(after.cells[1]?.[1]).toContain('area(**__kiln_json.loads("{\\"radius\\":2}"))');
    expect(after.run).toEqual({ function: 'area', args: { radius: 2 }, by: 'editor' });
  });

  it('refuses bad runs with a clear error and leaves the file as it was', async () => {
    const api = team.browsers.editor.api;
    const workspaceId = team.workspace.id;
    const file = await api.functionFile.create({ workspaceId, name: 'strict.py', source: MODULE });
    const before = await content(file.id);
    const run = (functionName: string, args: unknown) =>
      api.functionFile.run({
        workspaceId,
        notebookId: file.id,
        functionName,
        args: args as Record<string, never>,
      });
    const errors = await Promise.all([
      run('missing', {}).catch((error: Error) => error.message),
      run('os.system', {}).catch((error: Error) => error.message),
      run('area', [1, 2]).catch((error: Error) => error.message),
      run('area', { big: 'x'.repeat(70 * 1024) }).catch((error: Error) => error.message),
      api.functionFile
        .run({ workspaceId, notebookId: team.notebookId, functionName: 'area', args: {} })
        .catch((error: Error) => error.message),
    ]);
    expect(errors).toEqual([
      'No function named missing is defined at the top level of this file',
      'functionName: Function name must be a Python identifier',
      'args: Arguments must be a JSON object of keyword arguments',
      'args: Arguments must be at most 64 KiB of JSON',
      'This is a notebook, not a function file; run its cells instead',
    ]);
    expect(await content(file.id)).toEqual(before);
    expect(runsOf(file.id)).toEqual([]);
    await expect(
      api.functionFile.create({ workspaceId, name: 'huge.py', source: 'x'.repeat(1024 * 1024 + 1) }),
    ).rejects.toThrow('Source must be at most 1 MiB');
  });

  it('keep their history: a saved version restores the module', async () => {
    const api = team.browsers.editor.api;
    const workspaceId = team.workspace.id;
    const file = await api.functionFile.create({ workspaceId, name: 'history.py', source: MODULE });
    const ids = { workspaceId, notebookId: file.id };
    const version = await api.version.save({ ...ids, name: 'Works' });
    await editModule(file.id, 'def area(:\n');
    expect((await content(file.id)).module).toBe('def area(:\n');
    expect((await api.version.list(ids)).map((item) => item.name)).toContain('Works');
    const preview = await team.browsers.viewer.api.version.get({ ...ids, versionId: version.id });
    expect(preview.notebook.cells.map((cell) => cell.id)).toEqual([FUNCTION_MODULE_CELL, FUNCTION_CALL_CELL]);
    await api.version.restore({ ...ids, versionId: version.id });
    expect(await content(file.id)).toMatchObject({
      module: MODULE,
      cells: [
        [FUNCTION_MODULE_CELL, MODULE],
        [FUNCTION_CALL_CELL, ''],
      ],
    });
  });

  it('are read-only to viewers and invisible to other workspaces', async () => {
    const workspaceId = team.workspace.id;
    const file = await team.browsers.owner.api.functionFile.create({
      workspaceId,
      name: 'private.py',
      source: MODULE,
    });
    const ids = { workspaceId, notebookId: file.id };
    const viewer = team.browsers.viewer.api;
    const outsider = team.browsers.outsider.api;
    const asOutsiderInOwnWorkspace = { workspaceId: team.otherWorkspace.id, notebookId: file.id };
    expect({
      viewerRun: await outcome(
        viewer.functionFile.run({ ...ids, functionName: 'area', args: { radius: 1 } }),
      ),
      viewerCreate: await outcome(viewer.functionFile.create({ workspaceId, name: 'mine.py' })),
      viewerRename: await outcome(viewer.notebook.rename({ ...ids, name: 'x.py' })),
      viewerDelete: await outcome(viewer.notebook.delete(ids)),
      viewerRead: await outcome(viewer.notebook.get(ids)),
      outsiderRun: await outcome(
        outsider.functionFile.run({ ...asOutsiderInOwnWorkspace, functionName: 'area', args: {} }),
      ),
      outsiderRename: await outcome(outsider.notebook.rename({ ...asOutsiderInOwnWorkspace, name: 'pwned' })),
      outsiderDelete: await outcome(outsider.notebook.delete(asOutsiderInOwnWorkspace)),
      outsiderVersions: await outcome(outsider.version.list(asOutsiderInOwnWorkspace)),
      outsiderGet: await outcome(outsider.notebook.get(asOutsiderInOwnWorkspace)),
    }).toEqual({
      viewerRun: 'FORBIDDEN',
      viewerCreate: 'FORBIDDEN',
      viewerRename: 'FORBIDDEN',
      viewerDelete: 'FORBIDDEN',
      viewerRead: 'OK',
      outsiderRun: 'NOT_FOUND',
      outsiderRename: 'NOT_FOUND',
      outsiderDelete: 'NOT_FOUND',
      outsiderVersions: 'NOT_FOUND',
      outsiderGet: 'NOT_FOUND',
    });
    const row = await t.db.notebook.findUniqueOrThrow({ where: { id: file.id } });
    expect(row).toMatchObject({ name: 'private.py', workspaceId, kind: 'function' });
    expect(runsOf(file.id)).toEqual([]);
    expect((await content(file.id)).module).toBe(MODULE);
  });
});
