import type { TestDatabase } from '@kiln/db/testing';
import type { ExecutionService } from '@kiln/execution';
import { FUNCTION_CALL_CELL, FUNCTION_MODULE_CELL, findCell } from '@kiln/notebook';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTeam, type Team, withDatabase } from '../test/harness.ts';
import { startKernels } from '../test/kernels.ts';
import type { NotebookDocuments } from './services.ts';
import { withDocument } from './services.ts';

// Function files run in a real kernel (runsc) behind a real gateway: the module is executed, then
// the chosen function is called with the JSON arguments, and its output lands in the file.

let t: TestDatabase;
let team: Team;
let execution: ExecutionService;
let documents: NotebookDocuments;
let close: () => Promise<void> = async () => {};

beforeAll(async () => {
  t = await withDatabase({ max: 6 });
  const kernels = await startKernels(t.db);
  ({ execution, documents } = kernels);
  close = kernels.close;
  team = await createTeam(t.db, { documents, execution });
}, 900_000);

afterAll(async () => {
  await close();
  await t?.drop();
});

const MODULE = [
  'import json',
  'print("module loaded")',
  '',
  'def describe(name: str, tags: list, nested: dict, excited: bool = False):',
  '    print("called with", json.dumps({"name": name, "tags": tags, "nested": nested}, ensure_ascii=False))',
  '    return f"{name}:{len(tags)}" + ("!" if excited else "")',
  '',
  'async def later(x):',
  '    return x * 2',
  '',
  'def slow(seconds):',
  '    import time',
  '    print("sleeping", flush=True)',
  '    time.sleep(seconds)',
  '    return "woke up"',
  '',
].join('\n');

/** Each cell's outputs as text, once the file's runs are over. */
async function outputsAfterRun(notebookId: string): Promise<{ module: string; call: string }> {
  await execution.whenIdle(notebookId);
  return withDocument(documents, notebookId, (connection) => {
    const text = (id: string) => JSON.stringify(findCell(connection.document, id)?.toJSON().outputs ?? []);
    return { module: text(FUNCTION_MODULE_CELL), call: text(FUNCTION_CALL_CELL) };
  });
}

describe('running a function of a function file in a real kernel', () => {
  it('imports the module, calls the function with the JSON arguments and shows output and result', async () => {
    const api = team.browsers.editor.api;
    const workspaceId = team.workspace.id;
    const file = await api.functionFile.create({ workspaceId, name: 'describe.py', source: MODULE });
    const ids = { workspaceId, notebookId: file.id };
    const args = {
      name: 'Zoë "quoted"\n',
      tags: ['a', 'b', 'c'],
      nested: { deep: [1.5, null, true] },
      excited: true,
    };

    await api.functionFile.run({ ...ids, functionName: 'describe', args });
    const first = await outputsAfterRun(file.id);
    expect(first.module).toContain('module loaded');
    // The function saw exactly the arguments sent: Python's json.dumps of them, parsed back here.
    const printed = /called with (\{.*\})\\n/.exec(first.call)?.[1] ?? '';
    expect(JSON.parse(JSON.parse(`"${printed}"`))).toEqual({
      name: args.name,
      tags: args.tags,
      nested: args.nested,
    });
    expect(first.call).toContain(JSON.stringify(`'Zoë "quoted"\\n:3!'`).slice(1, -1));

    await api.functionFile.run({ ...ids, functionName: 'later', args: { x: 21 } });
    expect((await outputsAfterRun(file.id)).call).toContain('"text/plain":"42"');

    // Arguments the function does not take: the Python error shows in the run's output.
    await api.functionFile.run({ ...ids, functionName: 'later', args: { y: 1 } });
    const bad = await outputsAfterRun(file.id);
    expect(bad.call).toContain('TypeError');
    expect(bad.call).toContain("unexpected keyword argument 'y'");
  }, 300_000);

  it('one run at a time: a second run while one is going is refused, and Stop interrupts the run', async () => {
    const api = team.browsers.editor.api;
    const workspaceId = team.workspace.id;
    const file = await api.functionFile.create({ workspaceId, name: 'slow.py', source: MODULE });
    const ids = { workspaceId, notebookId: file.id };
    await api.functionFile.run({ ...ids, functionName: 'slow', args: { seconds: 120 } });
    await expect(
      api.functionFile.run({ ...ids, functionName: 'later', args: { x: 1 } }),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
      message: 'This file is still running; wait for the run to end or stop it',
    });
    // Stop once the call is sleeping (its first line printed), as a person watching the output would.
    const printed = async () =>
      withDocument(documents, file.id, (connection) =>
        JSON.stringify(findCell(connection.document, FUNCTION_CALL_CELL)?.toJSON().outputs ?? []).includes(
          'sleeping',
        ),
      );
    const deadline = Date.now() + 120_000;
    while (!(await printed())) {
      if (Date.now() > deadline) throw new Error('the call never started');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await api.notebook.interrupt(ids);
    const outputs = await outputsAfterRun(file.id);
    expect(outputs.call).toContain('KeyboardInterrupt');
    // No result: the call never returned (its traceback may quote the function's source).
    expect(outputs.call).not.toContain('"output_type":"execute_result"');
    // The file runs again afterwards.
    await api.functionFile.run({ ...ids, functionName: 'later', args: { x: 5 } });
    expect((await outputsAfterRun(file.id)).call).toContain('"text/plain":"10"');
  }, 300_000);

  it('a module that fails to import stops the run before the call, with the error and no stale result', async () => {
    const api = team.browsers.editor.api;
    const workspaceId = team.workspace.id;
    const file = await api.functionFile.create({
      workspaceId,
      name: 'broken.py',
      source: 'def ok():\n    return "fine"\n\nraise RuntimeError("config missing")\n',
    });
    await api.functionFile.run({ workspaceId, notebookId: file.id, functionName: 'ok', args: {} });
    const outputs = await outputsAfterRun(file.id);
    expect(outputs.module).toContain('RuntimeError');
    expect(outputs.module).toContain('config missing');
    expect(outputs.call).toBe('[]');
  }, 300_000);
});
