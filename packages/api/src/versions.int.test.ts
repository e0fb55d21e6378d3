import type { TestDatabase } from '@kiln/db/testing';
import { createNotebookDoc, deleteCell, getCells, insertCell, setCellMetadata } from '@kiln/notebook';
import { serializeIpynb, yDocToIpynb } from '@kiln/notebook/ipynb';
import { readNotebookFixture } from '@kiln/notebook/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Y from 'yjs';
import {
  type CollabClient,
  type CollabHttp,
  connectClient,
  startCollabHttp,
  waitFor,
} from '../test/collab-http.ts';
import { createTeam, outcome, type Team, withDatabase } from '../test/harness.ts';
import { createTestServices, type TestServices } from '../test/services.ts';

let t: TestDatabase;
let http: CollabHttp;
let services: TestServices;
const clients: CollabClient[] = [];
beforeAll(async () => {
  t = await withDatabase({ max: 4 });
  http = await startCollabHttp();
  services = createTestServices(http.collab);
});
afterAll(async () => {
  for (const client of clients) client.destroy();
  await http?.close();
  await t?.drop();
});

async function open(notebookId: string): Promise<CollabClient> {
  const client = await connectClient(http.url, notebookId);
  clients.push(client);
  return client;
}

/** Polls an async condition every 20 ms for up to 5 s. */
async function eventually(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition never held');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const sources = (doc: Y.Doc) => getCells(doc).map((cell) => String(cell.get('source')));
const asFile = (doc: Y.Doc) => JSON.stringify(yDocToIpynb(doc));

describe('named versions', () => {
  let team: Team;
  beforeAll(async () => {
    team = await createTeam(t.db, services.services);
  });

  it('save, list, preview and restore, seen live by a second client; saving first lets you go back', async () => {
    const api = team.browsers.editor.api;
    const ids = { workspaceId: team.workspace.id, notebookId: team.notebookId };
    const alice = await open(team.notebookId);
    const bob = await open(team.notebookId);

    alice.doc.transact(() => {
      createNotebookDoc({ doc: alice.doc, metadata: { kernelspec: { name: 'python3' } } });
      insertCell(alice.doc, { cell_type: 'markdown', source: '# Sales' });
      insertCell(alice.doc, { cell_type: 'code', source: 'total = 1.0' });
    });
    await waitFor(() => sources(bob.doc).length === 2, 'bob to see the first cells');
    const first = asFile(bob.doc);

    const saved = await api.version.save({ ...ids, name: 'First draft' });
    expect(saved).toMatchObject({ name: 'First draft', createdBy: { name: 'editor' } });

    alice.doc.transact(() => {
      deleteCell(alice.doc, 0);
      insertCell(alice.doc, { cell_type: 'code', source: 'print(total * 2)' });
      setCellMetadata(getCells(alice.doc).get(0), 'tags', ['slow']);
    });
    await waitFor(() => sources(bob.doc).join('|') === 'total = 1.0|print(total * 2)', 'bob to see edits');
    const edited = asFile(bob.doc);
    expect(edited).not.toBe(first);

    const preview = await team.browsers.viewer.api.version.get({ ...ids, versionId: saved.id });
    expect(JSON.stringify(preview.notebook)).toBe(first);
    expect(preview.name).toBe('First draft');

    const beforeRestore = await api.version.save({ ...ids, name: 'Before restoring' });
    const list = await team.browsers.viewer.api.version.list(ids);
    expect(list.map((version) => version.name)).toEqual(['Before restoring', 'First draft', 'Empty']);

    // The restore reaches bob as one edit of the document he already holds.
    const bobDoc = bob.doc;
    let bobUpdates = 0;
    bob.doc.on('update', () => bobUpdates++);
    await api.version.restore({ ...ids, versionId: saved.id });
    await waitFor(() => asFile(bob.doc) === first, 'bob to see the restored version');
    await waitFor(() => asFile(alice.doc) === first, 'alice to see the restored version');
    expect(bob.doc).toBe(bobDoc);
    expect(bobUpdates).toBe(1);

    // The restored document is still a shared one: alice types, bob sees it.
    const restoredCell = getCells(alice.doc).get(1);
    (restoredCell.get('source') as Y.Text).insert(0, 'grand_');
    await waitFor(() => sources(bob.doc)[1] === 'grand_total = 1.0', 'bob to see typing after restore');

    await api.version.restore({ ...ids, versionId: beforeRestore.id });
    await waitFor(() => asFile(bob.doc) === edited, 'bob to see the content from before the restore');
    expect(asFile(alice.doc)).toBe(edited);
  });

  it('round-trips an imported notebook with outputs through save and restore', async () => {
    const api = team.browsers.editor.api;
    const workspaceId = team.workspace.id;
    const content = readNotebookFixture('nbformat-4.5.ipynb');
    const { id: notebookId } = await api.notebook.importIpynb({ workspaceId, name: 'Outputs', content });
    const original = await api.notebook.exportIpynb({ workspaceId, notebookId });
    const version = await api.version.save({ workspaceId, notebookId, name: 'As imported' });

    const client = await open(notebookId);
    client.doc.transact(() => {
      deleteCell(client.doc, 0);
      deleteCell(client.doc, 0);
      insertCell(client.doc, { cell_type: 'code', source: 'x = 3.50' });
    });
    const changed = serializeIpynb(yDocToIpynb(client.doc));
    expect(changed).not.toBe(original.content);
    await eventually(
      async () => (await api.notebook.exportIpynb({ workspaceId, notebookId })).content === changed,
    );

    await api.version.restore({ workspaceId, notebookId, versionId: version.id });
    expect((await api.notebook.exportIpynb({ workspaceId, notebookId })).content).toBe(original.content);
    await waitFor(() => serializeIpynb(yDocToIpynb(client.doc)) === original.content, 'the client to see it');
  });

  it('refuses versions of other notebooks and unknown ids with NOT_FOUND', async () => {
    const api = team.browsers.owner.api;
    const workspaceId = team.workspace.id;
    const other = await api.notebook.create({ workspaceId, name: 'Other' });
    const results = {
      wrongNotebook: await outcome(
        api.version.restore({ workspaceId, notebookId: other.id, versionId: team.versionId }),
      ),
      unknown: await outcome(
        api.version.get({ workspaceId, notebookId: team.notebookId, versionId: other.id }),
      ),
    };
    expect(results).toEqual({ wrongNotebook: 'NOT_FOUND', unknown: 'NOT_FOUND' });
  });

  it('deleting a notebook deletes its versions', async () => {
    const api = team.browsers.owner.api;
    const workspaceId = team.workspace.id;
    const created = await api.notebook.create({ workspaceId, name: 'Short-lived' });
    await api.version.save({ workspaceId, notebookId: created.id, name: 'v1' });
    await api.notebook.delete({ workspaceId, notebookId: created.id });
    expect(await t.db.notebookVersion.count({ where: { notebookId: created.id } })).toBe(0);
  });
});
