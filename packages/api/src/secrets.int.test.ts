import { randomBytes } from 'node:crypto';
import { format } from 'node:util';
import type { TestDatabase } from '@kiln/db/testing';
import type { ExecutionService } from '@kiln/execution';
import { createKeyring, createSecretsVault, generateSecretsKey, parseSecretsKey } from '@kiln/secrets';
import { findInDatabase } from '@kiln/secrets/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTeam, type Team, withDatabase } from '../test/harness.ts';
import { codeNotebook, startKernels } from '../test/kernels.ts';

// Real kernels (runsc) behind a real kernel gateway, a Postgres-backed notebook store and the real
// vault: what a secret's value leaves behind, in the database and in every log line, after a kernel
// used it and printed it.

const logs: string[] = [];
const restore: (() => void)[] = [];

function capture(): void {
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = console[method];
    console[method] = (...args: unknown[]) => {
      logs.push(format(...args));
      original(...args);
    };
    restore.push(() => {
      console[method] = original;
    });
  }
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      logs.push(String(chunk));
      return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
    restore.push(() => {
      stream.write = original;
    });
  }
}

let t: TestDatabase;
let team: Team;
let execution: ExecutionService;
let close: () => Promise<void> = async () => {};

beforeAll(async () => {
  capture();
  t = await withDatabase({ max: 6 });
  const kernels = await startKernels(t.db);
  execution = kernels.execution;
  close = kernels.close;
  const secrets = createSecretsVault({
    db: t.db,
    keyring: createKeyring(parseSecretsKey(generateSecretsKey())),
  });
  team = await createTeam(t.db, { documents: kernels.documents, execution, secrets });
}, 900_000);

afterAll(async () => {
  await close();
  await t?.drop();
  for (const undo of restore.splice(0).reverse()) undo();
});

describe('a secret used by a real kernel', () => {
  it('arrives as env, shows masked in outputs, and is nowhere in clear in the database or the logs', async () => {
    const value = `kiln-int-${randomBytes(16).toString('hex')}`;
    const workspaceId = team.workspace.id;
    const owner = team.browsers.owner.api;
    const editor = team.browsers.editor.api;
    const secret = await owner.secret.create({ workspaceId, name: 'api', values: { TOKEN: value } });
    const { id: notebookId } = await editor.notebook.importIpynb({
      workspaceId,
      name: 'Uses a secret',
      content: codeNotebook([
        'import os\nprint("token:", os.environ["TOKEN"])',
        'print(len(os.environ["TOKEN"]))',
        'os.environ["TOKEN"].upper().lower()',
        'raise ValueError(os.environ["TOKEN"])',
      ]),
    });
    await editor.secret.setForNotebook({ workspaceId, notebookId, secretIds: [secret.id] });
    await editor.notebook.run({ workspaceId, notebookId, mode: 'all' });
    await execution.whenIdle(notebookId);
    await editor.version.save({ workspaceId, notebookId, name: 'After the run' });

    const exported = await editor.notebook.exportIpynb({ workspaceId, notebookId });
    const text = JSON.stringify(exported);
    const cells = JSON.parse(exported.content).cells as { outputs: Record<string, unknown>[] }[];
    const outputs = cells.map((cell) => JSON.stringify(cell.outputs));
    expect(outputs[0]).toContain('token: ********');
    expect(outputs[1]).toContain(String(value.length));
    expect(outputs[2]).toContain('********');
    expect(outputs[3]).toContain('ValueError');
    expect(outputs[3]).toContain('********');
    expect(text).not.toContain(value);

    // Members who may not manage secrets see names and variable names, never a value.
    const listed = JSON.stringify(await team.browsers.viewer.api.secret.list({ workspaceId }));
    expect(listed).toContain('TOKEN');
    expect(listed).not.toContain(value);

    expect(await findInDatabase(t.url, value)).toEqual([]);
    expect(logs.filter((line) => line.includes(value))).toEqual([]);
    const used = await t.db.auditLog.count({ where: { workspaceId, action: 'secret.used' } });
    expect(used).toBe(1);
  }, 600_000);

  it('masks a value the kernel printed in pieces or encoded as base64, hex or a URL', async () => {
    const value = `kiln-split-${randomBytes(16).toString('hex')}`;
    const workspaceId = team.workspace.id;
    const owner = team.browsers.owner.api;
    const editor = team.browsers.editor.api;
    const secret = await owner.secret.create({ workspaceId, name: 'split', values: { TOKEN: value } });
    const { id: notebookId } = await editor.notebook.importIpynb({
      workspaceId,
      name: 'Prints a secret in pieces',
      content: codeNotebook([
        // flush() sends what is buffered as its own stream message.
        'import os, sys, base64, binascii, urllib.parse\nv = os.environ["TOKEN"]\nsys.stdout.write("a=" + v[:9]); sys.stdout.flush()\nsys.stdout.write(v[9:20]); sys.stdout.flush()\nprint(v[20:] + " end")',
        'print(base64.b64encode(("x" + v).encode()).decode())\nprint(base64.urlsafe_b64encode(("xy" + v).encode()).decode())',
        'print(binascii.hexlify(v.encode()).decode(), v.encode().hex().upper())',
        'print("https://example.test/?k=" + urllib.parse.quote(v + "/&"))',
      ]),
    });
    await editor.secret.setForNotebook({ workspaceId, notebookId, secretIds: [secret.id] });
    await editor.notebook.run({ workspaceId, notebookId, mode: 'all' });
    await execution.whenIdle(notebookId);

    const exported = await editor.notebook.exportIpynb({ workspaceId, notebookId });
    const cells = JSON.parse(exported.content).cells as { outputs: { text?: string | string[] }[] }[];
    const texts = cells.map((cell) =>
      cell.outputs.map((output) => [output.text ?? ''].flat().join('')).join(''),
    );
    expect(texts[0]).toBe('a=******** end\n');
    for (const text of texts.slice(1)) expect(text).toContain('********');
    const encodings = [
      Buffer.from(value).toString('hex'),
      Buffer.from(value).toString('hex').toUpperCase(),
      encodeURIComponent(value),
      value.slice(0, 12),
    ];
    for (const form of encodings) expect(exported.content).not.toContain(form);
    // Whatever base64 is left around the mask is too short to decode any of the value from.
    for (const line of texts[1]?.split('\n') ?? []) {
      for (const piece of line.split('********')) {
        expect(Buffer.from(piece, 'base64').toString('latin1')).not.toContain(value.slice(0, 8));
      }
    }
  }, 600_000);
  it("masks a value the agent's own output boundaries cut (a 64 Ki-character message, a 256 Ki flush)", async () => {
    const value = `kiln-cut-${randomBytes(16).toString('hex')}`;
    const workspaceId = team.workspace.id;
    const owner = team.browsers.owner.api;
    const editor = team.browsers.editor.api;
    const secret = await owner.secret.create({ workspaceId, name: 'cut', values: { TOKEN: value } });
    // The agent sends a cell's stdout in messages of 64 Ki characters and flushes every 256 Ki
    // (kiln_relay.py): the first write of a cell is cut 10 characters into the value, and the writes
    // after it fill the flush to 256 Ki characters in the middle of the value.
    const { id: notebookId } = await editor.notebook.importIpynb({
      workspaceId,
      name: 'Prints a secret across output boundaries',
      content: codeNotebook([
        'import os, sys\nv = os.environ["TOKEN"]\nfirst = "x" * (65536 - 10) + v + " a\\n"\nfor piece in (first, "y" * (262144 - len(first) - 9), v[:9], v[9:] + " b\\n"):\n    sys.stdout.write(piece)',
      ]),
    });
    await editor.secret.setForNotebook({ workspaceId, notebookId, secretIds: [secret.id] });
    await editor.notebook.run({ workspaceId, notebookId, mode: 'all' });
    await execution.whenIdle(notebookId);

    const exported = await editor.notebook.exportIpynb({ workspaceId, notebookId });
    const cells = JSON.parse(exported.content).cells as { outputs: { text?: string | string[] }[] }[];
    const text = cells[0]?.outputs.map((output) => [output.text ?? ''].flat().join('')).join('');
    const first = 65536 - 10 + value.length + 3;
    expect(text).toBe(`${'x'.repeat(65536 - 10)}******** a\n${'y'.repeat(262144 - first - 9)}******** b\n`);
    expect(exported.content).not.toContain(value.slice(0, 12));
    expect(exported.content).not.toContain(value.slice(-12));
  }, 600_000);

  it("masks a function file's returned value in the Run output and everything stored after it", async () => {
    const value = `kiln-fn-${randomBytes(16).toString('hex')}`;
    const workspaceId = team.workspace.id;
    const owner = team.browsers.owner.api;
    const editor = team.browsers.editor.api;
    const secret = await owner.secret.create({ workspaceId, name: 'fn', values: { TOKEN: value } });
    const file = await editor.functionFile.create({
      workspaceId,
      name: 'returns_token.py',
      source:
        'import base64, os\n\ndef token(prefix):\n    v = os.environ["TOKEN"]\n    return {"t": prefix + v, "b64": base64.b64encode(v.encode()).decode()}\n',
    });
    const ids = { workspaceId, notebookId: file.id };
    await editor.secret.setForNotebook({ ...ids, secretIds: [secret.id] });
    await editor.functionFile.run({ ...ids, functionName: 'token', args: { prefix: 'Bearer ' } });
    await execution.whenIdle(file.id);
    await editor.version.save({ ...ids, name: 'After the run' });

    const exported = await editor.notebook.exportIpynb(ids);
    const result = JSON.stringify(JSON.parse(exported.content).cells.at(-1).outputs);
    expect(result).toContain('execute_result');
    expect(result).toContain('Bearer ********');
    for (const form of [value, Buffer.from(value).toString('base64').slice(0, 20)])
      expect(exported.content).not.toContain(form);
    expect(await findInDatabase(t.url, value)).toEqual([]);
    expect(logs.filter((line) => line.includes(value))).toEqual([]);
  }, 600_000);
});
