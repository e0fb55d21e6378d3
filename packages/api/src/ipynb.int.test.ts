import type { TestDatabase } from '@kiln/db/testing';
import { getCells, insertCell } from '@kiln/notebook';
import { fileNbformat, parseIpynb, serializeIpynb } from '@kiln/notebook/ipynb';
import { notebookFixtures, readNotebookFixture } from '@kiln/notebook/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Y from 'yjs';
import { Browser, createTeam, outcome, type Team, withDatabase } from '../test/harness.ts';
import { createTestServices, type TestServices } from '../test/services.ts';

const corpus = notebookFixtures.map(({ file }) => ({ file, content: readNotebookFixture(file) }));

/**
 * What parsing the file says: the notebook, or the parser's message. An nbformat 4 file downloads as
 * uploaded; an nbformat 2 or 3 file as its upgrade to 4.5.
 */
function parsed(content: string): { ok: true; expected: string } | { ok: false; message: string } {
  try {
    const nb = parseIpynb(content);
    return { ok: true, expected: fileNbformat(nb) === 4 ? content : serializeIpynb(nb) };
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
}

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

async function notebookCount(): Promise<number> {
  return t.db.notebook.count({ where: { workspaceId: team.workspace.id } });
}

describe('.ipynb import and export', () => {
  it('every fixture parses, nbformat 2 and 3 included (they are upgraded)', () => {
    expect(corpus.filter(({ content }) => !parsed(content).ok).map(({ file }) => file)).toEqual([]);
    expect(corpus.length).toBeGreaterThanOrEqual(15);
  });

  it.each(corpus.map(({ file }) => file))('%s: downloads byte for byte as imported', async (file) => {
    const { content } = corpus.find((entry) => entry.file === file) as { content: string };
    const api = team.browsers.editor.api;
    const workspaceId = team.workspace.id;
    const expectation = parsed(content);
    const before = await notebookCount();
    const name = file.replace(/\.ipynb$/, '').slice(0, 200);
    if (!expectation.ok) {
      const error = await api.notebook.importIpynb({ workspaceId, name, content }).then(
        () => null,
        (caught: { code: string; message: string }) => caught,
      );
      expect(error?.code).toBe('BAD_REQUEST');
      expect(error?.message).toBe(expectation.message);
      expect(await notebookCount()).toBe(before);
      return;
    }
    const created = await api.notebook.importIpynb({ workspaceId, name, content });
    expect(created.name).toBe(name);
    expect(await notebookCount()).toBe(before + 1);
    // A viewer downloads it; the room was unloaded in between, so this reads what was stored.
    const exported = await team.browsers.viewer.api.notebook.exportIpynb({
      workspaceId,
      notebookId: created.id,
    });
    expect(exported.filename).toBe(`${name}.ipynb`);
    expect(exported.content).toBe(expectation.expected);
  });

  it('a changed import downloads in the layout of its file; an unchanged one as the file itself', async () => {
    const api = team.browsers.editor.api;
    const workspaceId = team.workspace.id;
    const content = readNotebookFixture('unsorted-keys-indent-2.ipynb');
    const { id: notebookId } = await api.notebook.importIpynb({ workspaceId, name: 'Colab', content });
    const download = async () => (await api.notebook.exportIpynb({ workspaceId, notebookId })).content;
    expect(await download()).toBe(content);

    const connection = await services.collab.openDirectConnection(notebookId);
    const edit = (change: (doc: Y.Doc) => void) => connection.transact(change);
    await edit((doc) => {
      insertCell(doc, { cell_type: 'code', source: 'print(42)' }, 1);
    });
    const changed = await download();
    expect(changed).not.toBe(content);
    expect(changed.startsWith('{\n  "nbformat": 4,\n  "nbformat_minor": 0,\n  "metadata": {')).toBe(true);
    expect(changed).toContain('\n      "source": [\n        "print(42)"\n      ],\n');
    expect(JSON.parse(changed).cells).toHaveLength(4);

    // Taking the edit back makes it the imported notebook again, and the download the file again.
    await edit((doc) => {
      (getCells(doc) as Y.Array<unknown>).delete(1, 1);
    });
    expect(await download()).toBe(content);
    await connection.disconnect();
  });

  it('refuses files that are not notebooks and creates no notebook', async () => {
    const api = team.browsers.editor.api;
    const workspaceId = team.workspace.id;
    const before = await notebookCount();
    const bad = {
      'not json': 'this is not { json',
      'no version': '{"cells": []}',
      'bad cell': '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code"}]}',
      'too large': ' '.repeat(25 * 1024 * 1024 + 1),
      'nested 100,000 deep': `{"nbformat": 4, "nbformat_minor": 5, "metadata": {"x": ${'['.repeat(100_000)}${']'.repeat(100_000)}}, "cells": []}`,
    };
    const results: Record<string, string> = {};
    for (const [label, content] of Object.entries(bad)) {
      results[label] = await outcome(api.notebook.importIpynb({ workspaceId, name: label, content }));
    }
    expect(results).toEqual({
      'not json': 'BAD_REQUEST',
      'no version': 'BAD_REQUEST',
      'bad cell': 'BAD_REQUEST',
      'too large': 'BAD_REQUEST',
      'nested 100,000 deep': 'BAD_REQUEST',
    });
    const message = await api.notebook
      .importIpynb({ workspaceId, name: 'x', content: 'this is not { json' })
      .catch((error: Error) => error.message);
    expect(message).toMatch(/not valid JSON/);
    expect(await notebookCount()).toBe(before);
  });

  it('answers PRECONDITION_FAILED, not a 500, on a server without live documents', async () => {
    const bare = new Browser(t.db, { sessionToken: team.browsers.editor.sessionToken ?? undefined });
    const workspaceId = team.workspace.id;
    const before = await notebookCount();
    const content = corpus.find((entry) => entry.file === 'nbformat-4.5.ipynb')?.content ?? '';
    const error = await bare.api.notebook
      .importIpynb({ workspaceId, name: 'Offline', content })
      .catch((caught: { code: string; message: string }) => caught);
    expect(error).toMatchObject({
      code: 'PRECONDITION_FAILED',
      message: expect.stringMatching(/not available/),
    });
    expect(await outcome(bare.api.notebook.exportIpynb({ workspaceId, notebookId: team.notebookId }))).toBe(
      'PRECONDITION_FAILED',
    );
    expect(await notebookCount()).toBe(before);
  });

  it('names the download after the notebook, without characters file systems refuse', async () => {
    const api = team.browsers.editor.api;
    const workspaceId = team.workspace.id;
    await api.notebook.rename({
      workspaceId,
      notebookId: team.notebookId,
      name: 'Q3: revenue / costs.ipynb',
    });
    const exported = await api.notebook.exportIpynb({ workspaceId, notebookId: team.notebookId });
    expect(exported.filename).toBe('Q3- revenue - costs.ipynb');
    expect(JSON.parse(exported.content)).toMatchObject({ cells: [], nbformat: 4 });
  });
});
