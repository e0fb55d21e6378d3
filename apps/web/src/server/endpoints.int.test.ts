import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestDatabase } from '@kiln/db/testing';
import type { EndpointRuntime } from '@kiln/endpoints';
import type { Scheduler } from '@kiln/scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  testActor as actor,
  type EndpointStack,
  startEndpointStack,
  until,
  testVersion as version,
} from './endpoint-test-stack.ts';

// Endpoints end to end on the real stack (endpoint-test-stack.ts): a gateway node with runsc replicas,
// the scheduler over Postgres, the runtime behind the HTTP handler. No sleeps as synchronisation.
let stack: EndpointStack;
let database: TestDatabase;
let scheduler: Scheduler;
let runtime: EndpointRuntime;

beforeAll(async () => {
  stack = await startEndpointStack();
  ({ database, scheduler, runtime } = stack);
}, 300_000);

afterAll(async () => {
  await stack?.close();
}, 300_000);

const call = (...args: Parameters<EndpointStack['call']>) => stack.call(...args);
const workspace = (plan?: 'STARTER' | 'TEAM') => stack.workspace(plan);
const replicaContainers = (endpointId: string) => stack.replicaContainers(endpointId);

/** The gateway's sandbox (its run dir name) hosting the kernel `kernelId`, from the record it keeps there. */
async function sandboxOfKernel(kernelId: string): Promise<string | undefined> {
  const runDir = join(stack.stateDir, 'run');
  for (const name of readdirSync(runDir)) {
    const record = await readFile(join(runDir, name, 'kernel.json'), 'utf8').catch(() => null);
    if (record && (JSON.parse(record) as { kernelId?: string }).kernelId === kernelId) return name;
  }
  return undefined;
}

const settings = { cpu: 0.25, memoryMiB: 512, scaleDownSeconds: 600 };

describe('deploying and calling an endpoint', () => {
  it('smoke-tests a version, serves POST and GET, logs each call with its cost, and keeps a broken deploy from going live', async () => {
    const ws = await workspace();
    const endpoint = await runtime.store.create(ws.id, actor, {
      label: 'square',
      settings: { ...settings, public: true },
    });
    const first = await runtime.deploy(
      ws.id,
      endpoint.id,
      actor,
      version(
        'import math\n\ndef square(x, offset=0):\n    return {"value": x * x + offset, "pi": round(math.pi, 2)}\n',
        'square',
        { x: 3 },
      ),
    );
    expect(first.smoke).toEqual({ status: 'passed', result: { value: 9, pi: 3.14 }, error: null });
    expect(first.live).toBe(true);

    const posted = await call(ws.slug, 'square', {
      method: 'POST',
      body: JSON.stringify({ x: 4, offset: 1 }),
    });
    expect(posted.status).toBe(200);
    expect(posted.json()).toEqual({ value: 17, pi: 3.14 });
    const requestId = posted.headers.get('x-kiln-request-id');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const got = await call(ws.slug, 'square', { query: '?x=5&offset=2' });
    expect(got.json()).toEqual({ value: 27, pi: 3.14 });

    const logged = await until(async () => {
      const rows = await runtime.log.recent(ws.id, endpoint.id);
      return rows.length >= 2 ? rows : null;
    }, 'two logged requests');
    const post = logged.find((row) => row.id === requestId);
    expect(post).toMatchObject({ status: 200, method: 'POST', versionId: first.id });
    expect(post?.replicaId).toBeTruthy();
    // 0.25 core and 512 MiB for the call's milliseconds: a fraction of a micro-dollar, but never nothing.
    expect(post?.costNanos).toBeGreaterThan(0);
    expect(post?.latencyMs).toBeGreaterThan(0);
    const stats = await runtime.log.stats(ws.id, endpoint.id);
    expect(stats.count).toBe(2);
    expect(stats.p50Ms).toBeGreaterThan(0);

    // A version whose import fails: the smoke test fails with the Python error, version 1 keeps serving.
    const broken = await runtime.deploy(
      ws.id,
      endpoint.id,
      actor,
      version('import module_that_does_not_exist\n\ndef square(x):\n    return x\n', 'square', { x: 3 }),
    );
    expect(broken.smoke.status).toBe('failed');
    expect(broken.smoke.error).toContain("ModuleNotFoundError: No module named 'module_that_does_not_exist'");
    expect(broken.live).toBe(false);
    const still = await call(ws.slug, 'square', { method: 'POST', body: '{"x": 2}' });
    expect(still.json()).toEqual({ value: 4, pi: 3.14 });

    // A good new version goes live; rolling back puts version 1 back.
    const second = await runtime.deploy(
      ws.id,
      endpoint.id,
      actor,
      version('def square(x):\n    return x * x * 10\n', 'square', { x: 1 }),
    );
    expect(second.live).toBe(true);
    expect((await call(ws.slug, 'square', { method: 'POST', body: '{"x": 2}' })).json()).toBe(40);
    await runtime.rollback(ws.id, endpoint.id, first.id, actor);
    expect((await call(ws.slug, 'square', { method: 'POST', body: '{"x": 2}' })).json()).toEqual({
      value: 4,
      pi: 3.14,
    });
    // The audit log tells who deployed what (with the smoke test's verdict) and what was rolled back.
    const audit = await database.db.auditLog.findMany({
      where: { workspaceId: ws.id, action: { in: ['endpoint.deployed', 'endpoint.rolled_back'] } },
      orderBy: { createdAt: 'asc' },
    });
    expect(audit.map((entry) => [entry.action, entry.metadata])).toEqual([
      ['endpoint.deployed', expect.objectContaining({ version: 1, smoke: 'passed' })],
      ['endpoint.deployed', expect.objectContaining({ version: 2, smoke: 'failed' })],
      ['endpoint.deployed', expect.objectContaining({ version: 3, smoke: 'passed' })],
      ['endpoint.rolled_back', { version: 1 }],
    ]);
    await expect(runtime.rollback(ws.id, endpoint.id, broken.id, actor)).rejects.toThrow(
      'did not pass its smoke test',
    );
    const diff = await runtime.versions.diff(ws.id, endpoint.id, first.id, second.id);
    expect(diff.lines).toContainEqual({ op: '+', text: '    return x * x * 10' });
  });

  it('answers bad arguments with 4xx and the Python error, crashes with 5xx and a request id, and refuses bad bodies', async () => {
    const ws = await workspace();
    const endpoint = await runtime.store.create(ws.id, actor, {
      label: 'divide',
      settings: { ...settings, public: true },
    });
    const source =
      'import datetime\n\ndef divide(a, b):\n    if a == "now":\n        return datetime.datetime.now()\n    return a / b\n';
    expect(
      (await runtime.deploy(ws.id, endpoint.id, actor, version(source, 'divide', { a: 1, b: 2 }))).smoke
        .result,
    ).toBe(0.5);

    const missing = await call(ws.slug, 'divide', { method: 'POST', body: '{"a": 1}' });
    expect(missing.status).toBe(400);
    expect(missing.json().error).toBe("TypeError: missing a required argument: 'b'");
    const unknown = await call(ws.slug, 'divide', { method: 'POST', body: '{"a": 1, "b": 2, "c": 3}' });
    expect(unknown.status).toBe(400);
    expect(unknown.json().error).toContain("got an unexpected keyword argument 'c'");

    const crash = await call(ws.slug, 'divide', { method: 'POST', body: '{"a": 1, "b": 0}' });
    expect(crash.status).toBe(500);
    expect(crash.json().error).toContain('ZeroDivisionError: division by zero');
    expect(crash.json().error).toContain('return a / b');
    expect(crash.json().requestId).toBe(crash.headers.get('x-kiln-request-id'));

    const notJson = await call(ws.slug, 'divide', { method: 'POST', body: '{"a": "now", "b": 1}' });
    expect(notJson.status).toBe(500);
    expect(notJson.json().error).toMatch(/returned datetime, which is not JSON-serialisable/);

    const garbage = await call(ws.slug, 'divide', { method: 'POST', body: '{"a": 1,' });
    expect(garbage.status).toBe(400);
    expect(garbage.json().error).toMatch(/not JSON/);
    const list = await call(ws.slug, 'divide', { method: 'POST', body: '[1, 2]' });
    expect(list.status).toBe(400);
    const huge = await call(ws.slug, 'divide', {
      method: 'POST',
      body: JSON.stringify({ a: 'x'.repeat(100_000), b: 1 }),
    });
    expect(huge.status).toBe(413);
    expect((await call(ws.slug, 'divide', { method: 'DELETE' })).status).toBe(405);
    expect((await call(ws.slug, 'nothing-here', { method: 'POST', body: '{}' })).status).toBe(404);
    // After all that the replica still answers.
    expect((await call(ws.slug, 'divide', { method: 'POST', body: '{"a": 9, "b": 3}' })).json()).toBe(3);
  });
});

describe('tokens', () => {
  it("refuses missing, wrong, revoked and other endpoints' tokens without starting a container", async () => {
    const ws = await workspace();
    const other = await workspace();
    const endpoint = await runtime.store.create(ws.id, actor, { label: 'private', settings });
    const elsewhere = await runtime.store.create(other.id, actor, { label: 'private', settings });
    const { token } = await runtime.store.createToken(ws.id, endpoint.id, actor, 'ci');
    const { token: otherToken } = await runtime.store.createToken(other.id, elsewhere.id, actor, 'theirs');
    expect(token).toMatch(/^kep_/);
    const stored = await database.db.endpointToken.findMany({ where: { endpointId: endpoint.id } });
    expect(JSON.stringify(stored)).not.toContain(token);

    await runtime.deploy(
      ws.id,
      endpoint.id,
      actor,
      version('def private(name="x"):\n    return "hi " + name\n', 'private', {}),
    );
    const containersBefore = (await scheduler.list({ ownerId: endpoint.id })).length;
    const body = '{"name": "ada"}';
    const none = await call(ws.slug, 'private', { method: 'POST', body });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expect((await call(ws.slug, 'private', { method: 'POST', body, token: 'kep_wrong' })).status).toBe(401);
    expect((await call(ws.slug, 'private', { method: 'POST', body, token: otherToken })).status).toBe(401);
    const ok = await call(ws.slug, 'private', { method: 'POST', body, token });
    expect(ok.status).toBe(200);
    expect(ok.json()).toBe('hi ada');
    const [view] = await runtime.store.listTokens(ws.id, endpoint.id);
    await runtime.store.revokeToken(ws.id, endpoint.id, view?.id as string, actor);
    expect((await call(ws.slug, 'private', { method: 'POST', body, token })).status).toBe(401);
    const tokenAudit = await database.db.auditLog.findMany({
      where: { workspaceId: ws.id, action: { startsWith: 'endpoint.token_' } },
      orderBy: { createdAt: 'asc' },
    });
    expect(tokenAudit.map((entry) => entry.action)).toEqual([
      'endpoint.token_created',
      'endpoint.token_revoked',
    ]);
    // The audit log names the token, never its value.
    expect(JSON.stringify(tokenAudit)).not.toContain(token);
    // Another workspace cannot revoke or list this endpoint's tokens.
    await expect(runtime.store.listTokens(other.id, endpoint.id)).rejects.toThrow('No such endpoint');
    // The other workspace's endpoint with the same label is untouched and was never started.
    expect((await call(other.slug, 'private', { method: 'POST', body, token: otherToken })).status).toBe(503);
    expect(await scheduler.list({ ownerId: elsewhere.id })).toEqual([]);
    expect((await scheduler.list({ ownerId: endpoint.id })).length).toBe(containersBefore);
  });
});

describe('plan limits', () => {
  it('holds a Starter workspace to 8 web endpoints with a message naming the plan and the way out', async () => {
    const ws = await workspace('STARTER');
    for (let i = 0; i < 8; i++) await runtime.store.create(ws.id, actor, { label: `e${i}` });
    await expect(runtime.store.create(ws.id, actor, { label: 'e8' })).rejects.toThrow(
      'This workspace has 8 of 8 web endpoints its starter plan allows: delete one or upgrade to Team',
    );
    const team = await workspace('TEAM');
    for (let i = 0; i < 9; i++) await runtime.store.create(team.id, actor, { label: `e${i}` });
    expect((await runtime.store.list(team.id)).length).toBe(9);
    await expect(runtime.store.create(team.id, actor, { label: 'e1' })).rejects.toThrow('already exists');
    await expect(runtime.store.create(team.id, actor, { label: 'Bad Label' })).rejects.toThrow('lowercase');
  });
});

describe('timeouts, scale to zero and crashes', () => {
  it('answers 504 past the timeout and serves the next call', async () => {
    const ws = await workspace();
    const endpoint = await runtime.store.create(ws.id, actor, {
      label: 'slow',
      settings: { ...settings, public: true, timeoutSeconds: 3 },
    });
    await runtime.deploy(
      ws.id,
      endpoint.id,
      actor,
      version('import time\n\ndef slow(s):\n    time.sleep(s)\n    return s\n', 'slow', { s: 0 }),
    );
    const started = Date.now();
    const late = await call(ws.slug, 'slow', { method: 'POST', body: '{"s": 60}' });
    expect(late.status).toBe(504);
    expect(late.json().error).toContain('timeout of 3 s');
    expect(Date.now() - started).toBeLessThan(20_000);
    const next = await call(ws.slug, 'slow', { method: 'POST', body: '{"s": 0}' });
    expect(next.status).toBe(200);
  });

  it('queues calls up to the queue limit and answers 503 with Retry-After past it', async () => {
    const ws = await workspace();
    const endpoint = await runtime.store.create(ws.id, actor, {
      label: 'narrow',
      settings: { ...settings, public: true, maxReplicas: 1, queueLimit: 1 },
    });
    await runtime.deploy(
      ws.id,
      endpoint.id,
      actor,
      version('import time\n\ndef narrow(s):\n    time.sleep(s)\n    return s\n', 'narrow', { s: 0 }),
    );
    const running = call(ws.slug, 'narrow', { method: 'POST', body: '{"s": 3}' });
    await until(
      () => runtime.replicas(endpoint.id).some((replica) => replica.state === 'busy'),
      'the first call to run',
    );
    const waiting = call(ws.slug, 'narrow', { method: 'POST', body: '{"s": 0}' });
    // The second call waits in the queue (its one place); a third finds it full.
    await until(() => runtime.waiting(endpoint.id) === 1, 'the second call to queue');
    const full = await call(ws.slug, 'narrow', { method: 'POST', body: '{"s": 0}' });
    expect(full.status).toBe(503);
    expect(full.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(full.json().error).toMatch(/at capacity: 1 requests are already waiting/);
    expect((await running).status).toBe(200);
    expect((await waiting).status).toBe(200);
    expect(await replicaContainers(endpoint.id)).toHaveLength(1);
  });

  it('scales to zero after the scale-down window and comes back on the next call', async () => {
    const ws = await workspace();
    const endpoint = await runtime.store.create(ws.id, actor, {
      label: 'idle',
      settings: { ...settings, public: true, scaleDownSeconds: 2 },
    });
    await runtime.deploy(ws.id, endpoint.id, actor, version('def idle():\n    return "awake"\n', 'idle', {}));
    expect((await call(ws.slug, 'idle', { method: 'POST' })).json()).toBe('awake');
    await until(
      async () => (await replicaContainers(endpoint.id)).length === 0,
      'the replicas to stop',
      60_000,
    );
    expect(runtime.replicas(endpoint.id)).toEqual([]);
    const again = await call(ws.slug, 'idle', { method: 'POST' });
    expect(again.status).toBe(200);
    expect(again.json()).toBe('awake');
    expect((await replicaContainers(endpoint.id)).length).toBe(1);
  });

  it('wakes from zero on a replica restored from the snapshot taken after its module was imported', async () => {
    const ws = await workspace();
    const endpoint = await runtime.store.create(ws.id, actor, {
      label: 'slow-import',
      settings: { ...settings, public: true, scaleDownSeconds: 2 },
    });
    // An import that takes a while, so restoring after it beats a warm spare that would import again.
    const source =
      'import time\ntime.sleep(0.6)\nIMPORTS = [1]\n\ndef imports():\n    IMPORTS.append(1)\n    return len(IMPORTS)\n';
    await runtime.deploy(ws.id, endpoint.id, actor, version(source, 'imports', {}));
    // The smoke test's start had the gateway build the snapshot in the background; wait until it is there.
    const modules = join(stack.stateDir, 'snapshots', 'modules', ws.id);
    await until(
      () =>
        existsSync(modules) &&
        readdirSync(modules, { withFileTypes: true }).some(
          (entry) => entry.isDirectory() && !entry.name.includes('.building-'),
        ),
      'the module snapshot',
      120_000,
    );
    await until(
      async () => (await replicaContainers(endpoint.id)).length === 0,
      'the replicas to stop',
      60_000,
    );
    const again = await call(ws.slug, 'slow-import', { method: 'POST' });
    expect(again.status).toBe(200);
    // The module's state is the import's, taken once in the snapshot: this is the first call it sees.
    expect(again.json()).toBe(2);
    expect(runtime.replicas(endpoint.id).map((replica) => replica.startedFrom)).toEqual(['module']);
    // Another workspace deploying the same code never gets this workspace's snapshot.
    const other = await workspace();
    const otherEndpoint = await runtime.store.create(other.id, actor, {
      label: 'slow-import',
      settings: { ...settings, public: true },
    });
    await runtime.deploy(other.id, otherEndpoint.id, actor, version(source, 'imports', {}));
    expect(runtime.replicas(otherEndpoint.id).map((replica) => replica.startedFrom)).not.toContain('module');
  });

  it('gives a caller whose replica is killed with SIGKILL a 5xx with a request id, and serves the next call', async () => {
    const ws = await workspace();
    const endpoint = await runtime.store.create(ws.id, actor, {
      label: 'victim',
      settings: { ...settings, public: true },
    });
    await runtime.deploy(
      ws.id,
      endpoint.id,
      actor,
      version('import time\n\ndef victim(s):\n    time.sleep(s)\n    return "done"\n', 'victim', { s: 0 }),
    );
    const pending = call(ws.slug, 'victim', { method: 'POST', body: '{"s": 120}' });
    const busy = await until(
      () => runtime.replicas(endpoint.id).find((replica) => replica.state === 'busy'),
      'the call to run',
    );
    // The busy replica's own sandbox: its run dir's record names the replica (the scheduler's container id).
    // Other sandboxes appear in the run dir meanwhile (the warm pool's refill, the module snapshot's template).
    const sandbox = await until(() => sandboxOfKernel(busy.id), 'the replica sandbox');
    // Every process of that sandbox (runsc's sandbox and gofer) sits in its pids cgroup: SIGKILL them all.
    const procs = await readFile(`/sys/fs/cgroup/pids/kiln/${sandbox}/cgroup.procs`, 'utf8');
    const pids = procs.trim().split('\n').filter(Boolean);
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) process.kill(Number(pid), 'SIGKILL');
    const crashed = await pending;
    expect(crashed.status).toBeGreaterThanOrEqual(500);
    expect(crashed.json().requestId).toBe(crashed.headers.get('x-kiln-request-id'));
    expect(crashed.json().error).toMatch(/replica handling this request stopped/);
    const next = await call(ws.slug, 'victim', { method: 'POST', body: '{"s": 0}' });
    expect(next.status).toBe(200);
    expect(next.json()).toBe('done');
  });
});
