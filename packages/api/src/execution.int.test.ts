import { once } from 'node:events';
import { createServer } from 'node:net';
import type { TestDatabase } from '@kiln/db/testing';
import { createExecutionService, type ExecutionService, readExecutionState } from '@kiln/execution';
import { createGatewayClient } from '@kiln/kernel-protocol/client';
import { getCells } from '@kiln/notebook';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CollabClient,
  type CollabHttp,
  connectClient,
  startCollabHttp,
  waitFor,
} from '../test/collab-http.ts';
import { createTeam, outcome, type Team, withDatabase } from '../test/harness.ts';

/** A port nothing listens on: the kernel gateway is down. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const NOTEBOOK = JSON.stringify({
  cells: [
    { cell_type: 'markdown', id: 'intro', metadata: {}, source: '# Title' },
    { cell_type: 'code', execution_count: null, id: 'one', metadata: {}, outputs: [], source: 'x = 1' },
    { cell_type: 'code', execution_count: null, id: 'two', metadata: {}, outputs: [], source: 'x + 1' },
  ],
  metadata: {},
  nbformat: 4,
  nbformat_minor: 5,
});

let t: TestDatabase;
let http: CollabHttp;
let execution: ExecutionService;
let team: Team;
const clients: CollabClient[] = [];
beforeAll(async () => {
  t = await withDatabase({ max: 4 });
  http = await startCollabHttp();
  const baseUrl = `http://127.0.0.1:${await closedPort()}`;
  execution = createExecutionService({
    gateway: (workspaceId) => createGatewayClient({ baseUrl, token: 'unused', workspaceId }),
    openDocument: (notebookId) => http.collab.openDirectConnection(notebookId),
    onError: () => {},
  });
  team = await createTeam(t.db, {
    documents: { open: (notebookId) => http.collab.openDirectConnection(notebookId) },
    execution,
  });
});
afterAll(async () => {
  for (const client of clients) client.destroy();
  await execution?.dispose();
  await http?.close();
  await t?.drop();
});

describe('running through the real execution service', () => {
  it('queues only code cells, in notebook order, and shows a gateway outage in the notebook', async () => {
    const api = team.browsers.editor.api;
    const workspaceId = team.workspace.id;
    const { id: notebookId } = await api.notebook.importIpynb({
      workspaceId,
      name: 'Run me',
      content: NOTEBOOK,
    });
    const bob = await connectClient(http.url, notebookId);
    clients.push(bob);

    expect((await api.notebook.run({ workspaceId, notebookId, mode: 'all' })).cellIds).toEqual([
      'one',
      'two',
    ]);
    await waitFor(() => readExecutionState(bob.doc)?.kernel.status === 'dead', 'bob to see the kernel fail');
    expect(readExecutionState(bob.doc)?.kernel.reason).toBeTruthy();
    const first = getCells(bob.doc).get(1);
    await waitFor(
      () => JSON.stringify(first.get('outputs')).includes('KernelStartFailed'),
      'the error in the cell',
    );

    const below = await api.notebook.run({ workspaceId, notebookId, mode: 'below', cellId: 'two' });
    expect(below.cellIds).toEqual(['two']);
    const above = await api.notebook.run({ workspaceId, notebookId, mode: 'above', cellId: 'two' });
    expect(above.cellIds).toEqual(['one']);
  });

  it('answers unknown cells with NOT_FOUND and a stray input answer with CONFLICT, never a 500', async () => {
    const api = team.browsers.editor.api;
    const ids = { workspaceId: team.workspace.id, notebookId: team.notebookId };
    const results = {
      unknownCell: await outcome(api.notebook.run({ ...ids, cellIds: ['no-such-cell'] })),
      strayAnswer: await outcome(api.notebook.answerInput({ ...ids, value: 'hello' })),
      interrupt: await outcome(api.notebook.interrupt(ids)),
      restart: await outcome(api.notebook.restart(ids)),
      shutdown: await outcome(api.notebook.shutdownKernel(ids)),
    };
    expect(results).toEqual({
      unknownCell: 'NOT_FOUND',
      strayAnswer: 'CONFLICT',
      interrupt: 'OK',
      restart: 'OK',
      shutdown: 'OK',
    });
  });
});
