import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScheduledEndpointCall } from '@kiln/api';
import { buildWheel, servePackageIndex } from '@kiln/kernel-gateway/testing';
import { workspaceToken } from '@kiln/kernel-protocol/client';
import { byTarget, createScheduleRunner, createSchedules } from '@kiln/schedules';
import { MASK } from '@kiln/secrets';
import { findInDatabase } from '@kiln/secrets/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  testActor as actor,
  type EndpointStack,
  startEndpointStack,
  TEST_VOLUME_QUOTA_MIB,
  until,
  testVersion as version,
} from './endpoint-test-stack.ts';

// What a version's replicas run with, on the real stack (endpoint-test-stack.ts): its secrets from the
// vault, its named volumes mounted by the node, its image built by the node from a package index this
// test serves itself.
let stack: EndpointStack;
let wheels: string;
let packageIndex: Awaited<ReturnType<typeof servePackageIndex>>;
// A wheel only this run's index serves: a replica that imports it runs on the version's built image.
const probe = `probe-${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  wheels = await mkdtemp(join(tmpdir(), 'kiln-endpoint-wheels-'));
  buildWheel(wheels, {
    name: 'kiln-probe',
    version: '0.1',
    module: 'kiln_probe',
    source: `VALUE = ${JSON.stringify(probe)}\n`,
  });
  packageIndex = await servePackageIndex(wheels);
  stack = await startEndpointStack({ pipIndexUrl: packageIndex.url });
}, 300_000);

afterAll(async () => {
  await stack?.close();
  await packageIndex?.close();
  if (wheels) await rm(wheels, { recursive: true, force: true });
}, 300_000);

const call = (...args: Parameters<EndpointStack['call']>) => stack.call(...args);
const workspace = () => stack.workspace();
const settings = { cpu: 0.25, memoryMiB: 512, scaleDownSeconds: 600 };

describe('what a version runs with', () => {
  it("starts replicas with the version's secrets as environment variables and its volumes mounted, masking a leaked value", async () => {
    const ws = await workspace();
    const key = `wk-${randomBytes(16).toString('hex')}`;
    const secret = await stack.vault.create(ws.id, actor, { name: 'weather', values: { WEATHER_KEY: key } });
    const volume = await stack.volumes.create(ws.id, actor, 'models');
    // A file put into the volume through the node's file API (what the file browser's upload does).
    const upload = await fetch(`${stack.nodeUrl}/kiln/volumes/${volume.id}/file?path=greeting.txt`, {
      method: 'PUT',
      headers: {
        authorization: `token ${workspaceToken(stack.secret, ws.id)}`,
        'x-kiln-volume-quota-mib': String(TEST_VOLUME_QUOTA_MIB),
      },
      body: 'hello from the volume',
    });
    expect(upload.status, await upload.text()).toBe(201);

    const endpoint = await stack.runtime.store.create(ws.id, actor, {
      label: 'configured',
      settings: { ...settings, public: true },
    });
    const source = [
      'import hashlib, os, pathlib',
      '',
      'def configured(name):',
      '    key = os.environ["WEATHER_KEY"]',
      '    if name == "leak":',
      '        raise RuntimeError("the key is " + key)',
      '    return {',
      '        "key_sha256": hashlib.sha256(key.encode()).hexdigest(),',
      '        "file": pathlib.Path("/vol/models", name).read_text(),',
      '        "write": try_write("/vol/models/new.txt"),',
      '    }',
      '',
      'def try_write(path):',
      '    try:',
      '        pathlib.Path(path).write_text("x")',
      '        return "written"',
      '    except OSError as error:',
      '        return os.strerror(error.errno)',
      '',
    ].join('\n');
    const deployed = await stack.runtime.deploy(ws.id, endpoint.id, actor, {
      ...version(source, 'configured', { name: 'greeting.txt' }),
      sandbox: {
        image: null,
        secrets: [{ id: secret.id, name: secret.name }],
        volumes: [{ name: 'models', readOnly: true }],
      },
    });
    const expected = {
      key_sha256: createHash('sha256').update(key).digest('hex'),
      file: 'hello from the volume',
      // Mounted read-only: a write fails inside the sandbox. (os.access still answers writable: the
      // volume is bound read-only on the host under a /vol gVisor mounts read-write, see the gateway README.)
      write: 'Read-only file system',
    };
    expect(deployed.smoke).toEqual({ status: 'passed', result: expected, error: null });
    expect(deployed.sandbox).toEqual({
      image: null,
      secrets: [{ id: secret.id, name: 'weather' }],
      volumes: [{ name: 'models', readOnly: true }],
    });

    const served = await call(ws.slug, 'configured', {
      method: 'POST',
      body: JSON.stringify({ name: 'greeting.txt' }),
    });
    expect(served.status).toBe(200);
    expect(served.json()).toEqual(expected);
    // The Python error carries the value: the caller and the request log see it masked.
    const leaked = await call(ws.slug, 'configured', { method: 'POST', body: '{"name": "leak"}' });
    expect(leaked.status).toBe(500);
    expect(leaked.text).toContain('RuntimeError: the key is ********');
    expect(leaked.text).not.toContain(key);
    const logged = await until(async () => {
      const rows = await stack.runtime.log.recent(ws.id, endpoint.id);
      return rows.find((row) => row.status === 500);
    }, 'the failed call in the log');
    expect(logged.error).toContain('********');
    // Used, and audited as used by the endpoint; never stored in clear anywhere.
    const used = await stack.database.db.auditLog.findMany({
      where: { workspaceId: ws.id, action: 'secret.used' },
    });
    expect(used.length).toBeGreaterThan(0);
    expect(used[0]?.metadata).toMatchObject({ endpointId: endpoint.id, purpose: 'endpoint replica start' });
    expect(await findInDatabase(stack.database.url, key)).toEqual([]);
  }, 300_000);

  it('masks a secret the function returns: in the answer, the smoke result, the request log and a schedule run', async () => {
    const ws = await workspace();
    const key = `rk-${randomBytes(16).toString('hex')}`;
    const secret = await stack.vault.create(ws.id, actor, { name: 'returned', values: { API_KEY: key } });
    const endpoint = await stack.runtime.store.create(ws.id, actor, {
      label: 'returns-key',
      settings: { ...settings, public: true },
    });
    // A careless function hands its key back as it is, inside a structure, encoded, and with JSON escapes.
    const source = [
      'import base64, os',
      '',
      'def returns_key(tag):',
      '    key = os.environ["API_KEY"]',
      '    return {',
      '        "tag": tag,',
      '        "key": key,',
      '        "nested": [{"header": "Bearer " + key}],',
      '        "b64": base64.b64encode(key.encode()).decode(),',
      '        "hex": key.encode().hex(),',
      '        "quoted": "\\"" + key + "\\" \\u00e9",',
      '        key: "as a key",',
      '    }',
      '',
    ].join('\n');
    const deployed = await stack.runtime.deploy(ws.id, endpoint.id, actor, {
      ...version(source, 'returns_key', { tag: 'smoke' }),
      sandbox: { image: null, secrets: [{ id: secret.id, name: secret.name }], volumes: [] },
    });
    expect(deployed.smoke.status, deployed.smoke.error ?? '').toBe('passed');
    expect(deployed.smoke.result).toMatchObject({ tag: 'smoke', key: '********', [MASK]: 'as a key' });
    expect(JSON.stringify(deployed.smoke)).not.toContain(key);

    const served = await call(ws.slug, 'returns-key', { method: 'POST', body: '{"tag": "http"}' });
    expect(served.status, served.text).toBe(200);
    const answer = served.json();
    expect(answer).toMatchObject({
      tag: 'http',
      key: MASK,
      nested: [{ header: `Bearer ${MASK}` }],
      quoted: `"${MASK}" é`,
      [MASK]: 'as a key',
    });
    expect(answer.b64).toContain(MASK);
    expect(answer.hex).toBe(MASK);
    for (const form of [
      key,
      Buffer.from(key).toString('hex'),
      Buffer.from(key).toString('base64').slice(0, 20),
    ])
      expect(served.text).not.toContain(form);

    // A schedule's tick stores the result in its run history: masked too.
    const schedules = createSchedules({ db: stack.database.db });
    const schedule = await schedules.createForEndpoint(ws.id, actor, endpoint.id, {
      timing: { kind: 'period', seconds: 60 },
      args: { tag: 'scheduled' },
      maxRetries: 0,
    });
    const runner = createScheduleRunner({
      db: stack.database.db,
      clock: () => new Date(Date.now() + 120_000),
      execute: byTarget({
        notebook: async () => ({ ok: false, error: 'this test schedules no notebook' }),
        endpoint: createScheduledEndpointCall(stack.runtime),
      }),
    });
    expect(await runner.tick()).toBe(1);
    await runner.idle();
    const [run] = await schedules.runs(ws.id, schedule.id);
    expect(run?.status, run?.error ?? '').toBe('succeeded');
    expect(JSON.parse(run?.result ?? 'null')).toMatchObject({ tag: 'scheduled', key: MASK });

    const logged = await until(async () => {
      const rows = await stack.runtime.log.recent(ws.id, endpoint.id);
      return rows.length >= 2 ? rows : null;
    }, 'both calls in the request log');
    expect(logged.map((row) => row.status)).toEqual([200, 200]);
    await stack.runtime.log.flush();
    // Nowhere in the database in clear, hex or base64: versions, request log, schedule runs, audit.
    expect(await findInDatabase(stack.database.url, key)).toEqual([]);
    expect(
      await findInDatabase(stack.database.url, Buffer.from(key).toString('base64').slice(0, 20)),
    ).toEqual([]);
  }, 300_000);

  it("starts replicas on the version's image, built by the node on first use", async () => {
    const ws = await workspace();
    const endpoint = await stack.runtime.store.create(ws.id, actor, {
      label: 'on-image',
      settings: { ...settings, public: true, timeoutSeconds: 900 },
    });
    const deployed = await stack.runtime.deploy(ws.id, endpoint.id, actor, {
      ...version('import kiln_probe\n\ndef probe():\n    return kiln_probe.VALUE\n', 'probe', {}),
      sandbox: {
        image: { id: randomUUID(), name: 'probe', debian: [], python: ['kiln-probe==0.1'] },
        secrets: [],
        volumes: [],
      },
    });
    expect(deployed.smoke, deployed.smoke.error ?? '').toMatchObject({ status: 'passed', result: probe });
    const served = await call(ws.slug, 'on-image', { method: 'POST', body: '{}' });
    expect(served.json()).toBe(probe);
  }, 900_000);
});
