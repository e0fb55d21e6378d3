import { randomUUID } from 'node:crypto';
import { enforceCaps, setBudget } from '@kiln/billing';
import { createEndpointRuntime, ROUTE_CACHE_MS, unavailableReplicaHost } from '@kiln/endpoints';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  testActor as actor,
  type EndpointStack,
  startEndpointStack,
  until,
  testVersion as version,
} from './endpoint-test-stack.ts';

// What a caller sees around changes to an endpoint: rollbacks racing calls in flight, token revocation
// and other web processes' changes against the proxy's short cache, and spending caps before a replica
// starts. Real gateway, runsc replicas, scheduler and Postgres (endpoint-test-stack.ts).
let stack: EndpointStack;

beforeAll(async () => {
  stack = await startEndpointStack();
}, 300_000);

afterAll(async () => {
  await stack?.close();
}, 300_000);

const settings = { cpu: 0.25, memoryMiB: 512, scaleDownSeconds: 600 };
const post = (slug: string, label: string, token?: string) =>
  stack.call(slug, label, { method: 'POST', body: '{}', token });

async function twoVersions(label: string, extra: Record<string, unknown> = {}) {
  const { runtime } = stack;
  const ws = await stack.workspace();
  const endpoint = await runtime.store.create(ws.id, actor, { label, settings: { ...settings, ...extra } });
  const source = (answer: string) => `def ${label}():\n    return "${answer}"\n`;
  const first = await runtime.deploy(ws.id, endpoint.id, actor, version(source('v1'), label, {}));
  const second = await runtime.deploy(ws.id, endpoint.id, actor, version(source('v2'), label, {}));
  expect(second.live).toBe(true);
  return { ws, endpoint, first, second };
}

describe('rolling back while calls are in flight', () => {
  it('serves every call made after the rollback returned with the rolled-back version, even when a call that looked the endpoint up before it reaches the pool later', async () => {
    const { runtime } = stack;
    const { ws, endpoint, first } = await twoVersions('which', { public: true });
    expect((await post(ws.slug, 'which')).json()).toBe('v2');

    // A call in flight: it has looked the endpoint up (version 2 live) and is still reading its body.
    let entered = () => {};
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let release = (_kwargs: string) => {};
    const body = new Promise<string>((resolve) => {
      release = resolve;
    });
    const stale = runtime.call(
      { workspaceSlug: ws.slug, label: 'which', method: 'POST', token: null },
      () => {
        entered();
        return body;
      },
    );
    await inside;

    await runtime.rollback(ws.id, endpoint.id, first.id, actor);
    const fresh = post(ws.slug, 'which');
    await until(() => runtime.waiting(endpoint.id) >= 1, 'the new call to wait for a version 1 replica');
    // The slow call now reaches the pool with what it read before the rollback.
    release('{}');
    const [freshAnswer, staleAnswer] = await Promise.all([fresh, stale]);
    expect(freshAnswer.status).toBe(200);
    expect(freshAnswer.json()).toBe('v1');
    // It is answered by the version live when it got a replica, and logged with that version.
    expect(staleAnswer).toMatchObject({ status: 200, body: '"v1"' });
    const logged = await until(
      async () =>
        (await runtime.log.recent(ws.id, endpoint.id)).find((row) => row.id === staleAnswer.requestId),
      'the slow call in the request log',
    );
    expect(logged.versionId).toBe(first.id);
    expect((await post(ws.slug, 'which')).json()).toBe('v1');
  });
});

describe('the proxy cache', () => {
  it('refuses a revoked token at once, and applies another web process’s revocation and rollback within its bound', async () => {
    const { runtime, database } = stack;
    const { ws, endpoint, first } = await twoVersions('guarded');
    const { token } = await runtime.store.createToken(ws.id, endpoint.id, actor, 'first');
    expect((await post(ws.slug, 'guarded', token)).status).toBe(200);
    expect((await post(ws.slug, 'guarded', token)).json()).toBe('v2');
    const [view] = await runtime.store.listTokens(ws.id, endpoint.id);
    await runtime.store.revokeToken(ws.id, endpoint.id, view?.id as string, actor);
    const refused = await post(ws.slug, 'guarded', token);
    expect(refused.status).toBe(401);
    expect(refused.json().error).toMatch(/wrong, revoked/);

    // Another web process over the same database, with its own cache and pools.
    const other = createEndpointRuntime({ db: database.db, host: unavailableReplicaHost('not used here') });
    try {
      const second = await runtime.store.createToken(ws.id, endpoint.id, actor, 'second');
      expect((await post(ws.slug, 'guarded', second.token)).json()).toBe('v2');
      await other.store.revokeToken(ws.id, endpoint.id, second.view.id, actor);
      await other.rollback(ws.id, endpoint.id, first.id, actor);
      const changed = Date.now();
      // This process may answer from what it looked up before, but no call made past the bound is.
      await new Promise((resolve) => setTimeout(resolve, ROUTE_CACHE_MS - (Date.now() - changed) + 50));
      expect((await post(ws.slug, 'guarded', second.token)).status).toBe(401);
      const { token: third } = await runtime.store.createToken(ws.id, endpoint.id, actor, 'third');
      expect((await post(ws.slug, 'guarded', third)).json()).toBe('v1');
    } finally {
      await other.close();
    }
  });
});

/** A finished slice in the ledger worth far more than any credit or budget, ending now. */
async function expensiveUsage(workspaceId: string) {
  const end = new Date();
  const start = new Date(
    Math.max(end.getTime() - 60_000, Date.UTC(end.getUTCFullYear(), end.getUTCMonth(), 1)),
  );
  await stack.database.db.usageSlice.create({
    data: {
      id: `${randomUUID()}:2`,
      workspaceId,
      containerId: randomUUID(),
      periodSeq: 2,
      kind: 'kernel',
      ownerId: 'nb',
      gpuType: 'H100',
      gpuCount: 1,
      cpuMillicores: 1000,
      memoryMiB: 1024,
      priceVersionId: 1,
      gpuRateFemto: 1_000_000_000_000n,
      cpuRateFemto: 13_100_000n,
      memRateFemto: 2_220_000n,
      startAt: start,
      heartbeatAt: end,
      endAt: end,
      endReason: 'stopped',
    },
  });
}

describe('spending caps', () => {
  it('refuses to deploy in a Starter workspace past its credits, before any version or replica exists', async () => {
    const { runtime, scheduler } = stack;
    const ws = await stack.workspace('STARTER');
    const endpoint = await runtime.store.create(ws.id, actor, { label: 'broke', settings });
    await expensiveUsage(ws.id);
    await expect(
      runtime.deploy(ws.id, endpoint.id, actor, version('def broke():\n    return 1\n', 'broke', {})),
    ).rejects.toMatchObject({
      code: 'SPEND_LIMIT_REACHED',
      message: expect.stringMatching(/used its \$30\.00 of Starter credits/),
    });
    expect(await runtime.versions.list(ws.id, endpoint.id)).toEqual([]);
    expect(await scheduler.list({ ownerId: endpoint.id })).toEqual([]);
  });

  it('at a hard cap, billing’s enforcement stops warm replicas and calls get 402 instead of a new one, until the cap is lifted', async () => {
    const { runtime, scheduler, database } = stack;
    const ws = await stack.workspace('TEAM');
    const endpoint = await runtime.store.create(ws.id, actor, {
      label: 'capped',
      settings: { ...settings, public: true },
    });
    await runtime.deploy(
      ws.id,
      endpoint.id,
      actor,
      version('def capped():\n    return "ran"\n', 'capped', {}),
    );
    expect((await post(ws.slug, 'capped')).json()).toBe('ran');
    const [warm] = await until(async () => {
      const running = await scheduler.list({ ownerId: endpoint.id, states: ['running'] });
      return running.length > 0 ? running : null;
    }, 'the warm replica to run');

    await setBudget(database.db, ws.id, { amountMicros: 1_000_000n, hardCap: true });
    await expensiveUsage(ws.id);
    // The billing loop's pass, with the web app's hibernate for endpoint replicas.
    const passes = await enforceCaps({
      db: database.db,
      hibernate: async (containerId, reason) => {
        await runtime.stopReplica(containerId, reason);
      },
    });
    expect(passes.find((pass) => pass.workspaceId === ws.id)?.hibernated).toEqual([warm?.id]);
    await until(
      async () => (await stack.replicaContainers(endpoint.id)).length === 0,
      'the warm replica to stop',
      60_000,
    );
    expect(runtime.replicas(endpoint.id)).toEqual([]);
    const containers = (await scheduler.list({ ownerId: endpoint.id })).length;

    const refused = await post(ws.slug, 'capped');
    expect(refused.status).toBe(402);
    expect(refused.json().error).toMatch(
      /^No replica was started: This workspace reached its monthly budget of \$1\.00, which is a hard cap/,
    );
    expect(refused.json().requestId).toBe(refused.headers.get('x-kiln-request-id'));
    expect((await scheduler.list({ ownerId: endpoint.id })).length).toBe(containers);
    const logged = await until(
      async () =>
        (await runtime.log.recent(ws.id, endpoint.id)).find((r) => r.id === refused.json().requestId),
      'the refused call in the request log',
    );
    expect(logged).toMatchObject({ status: 402, replicaId: null });

    await setBudget(database.db, ws.id, null);
    const served = await post(ws.slug, 'capped');
    expect(served.status).toBe(200);
    expect(served.json()).toBe('ran');
  });
});
