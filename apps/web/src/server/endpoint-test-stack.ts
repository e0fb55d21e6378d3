import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import {
  createEndpointRuntime,
  createKernelReplicaHost,
  type EndpointRuntime,
  type NewVersion,
} from '@kiln/endpoints';
import { createEndpointHandler } from '@kiln/endpoints/serve';
import { createScheduler, type Scheduler } from '@kiln/scheduler';
import {
  createKeyring,
  createSecretsVault,
  generateSecretsKey,
  parseSecretsKey,
  type SecretsVault,
} from '@kiln/secrets';
import { createVolumes, type Volumes } from '@kiln/volumes';
import { spawnGatewayProcess } from './gateway-test-nodes.ts';

// The endpoints integration tests' stack: a real gateway node (runsc replicas restored from its
// snapshot) joined to the scheduler over real Postgres, the runtime and the HTTP handler as the web app
// mounts them. Replica starts on a loaded 2-core machine take seconds: callers give generous timeouts.
export const testActor = { userId: null };

/** Each named volume's size here: the node makes every volume an ext4 image of its quota. */
export const TEST_VOLUME_QUOTA_MIB = 64;

export interface EndpointStack {
  database: TestDatabase;
  scheduler: Scheduler;
  runtime: EndpointRuntime;
  /** The vault (a fresh key) and volumes replicas get their versions' secrets and mounts from. */
  vault: SecretsVault;
  volumes: Volumes;
  /** The node's URL (its volume file API, as the web app's file browser proxies to it). */
  nodeUrl: string;
  /** The gateway's shared secret (a second runtime over the same node needs it). */
  secret: string;
  /** The gateway's state directory (its sandboxes' run directory is `<stateDir>/run`). */
  stateDir: string;
  base: string;
  /** A workspace of its own for one test. */
  workspace(plan?: 'STARTER' | 'TEAM'): Promise<{ id: string; slug: string }>;
  /** Calls `/e/<slug>/<label>` over HTTP as a client would. */
  call(
    slug: string,
    label: string,
    init?: RequestInit & { token?: string; query?: string },
  ): Promise<{ status: number; headers: Headers; text: string; json: () => ReturnType<typeof JSON.parse> }>;
  /** The endpoint's replica containers that are queued, starting or running. */
  replicaContainers(endpointId: string): ReturnType<Scheduler['list']>;
  close(): Promise<void>;
}

/** Polls `check` every 100 ms until it returns something truthy. */
export async function until<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 180_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A version of `functionName` from `source`, as a notebook cell's deploy would make it. */
export function testVersion(
  source: string,
  functionName: string,
  sampleInput: Record<string, unknown>,
): NewVersion {
  return {
    functionName,
    source,
    origin: { kind: 'notebook', notebookId: '00000000-0000-4000-8000-000000000001', cellId: 'c1' },
    dependencies: { imports: [], definitions: [], missing: [] },
    parameters: [],
    sampleInput,
  };
}

/**
 * How the stack runs. The defaults are the integration tests'; the endpoints benchmark
 * (bench/endpoints) starts the same stack with its own figures, so what it measures stays its own.
 */
export interface EndpointStackOptions {
  /** The index the node's image builds install Python packages from. */
  pipIndexUrl?: string;
  /** The node's id (default `endpoints-node`). */
  nodeId?: string;
  /** Postgres connections of the test database (default 10). */
  databaseConnections?: number;
  /** The scheduler's heartbeat timeout (default 15 s) and how often it ticks (default 500 ms). */
  heartbeatTimeoutMs?: number;
  schedulerTickMs?: number;
  /** How often the node heartbeats (default 1 s; null: the node's own default). */
  gatewayHeartbeatSeconds?: number | null;
  /** The HTTP handler's request body limit (default 64 KiB) and the server's keep-alive timeout. */
  maxBodyBytes?: number;
  keepAliveTimeoutMs?: number;
}

export async function startEndpointStack(options: EndpointStackOptions = {}): Promise<EndpointStack> {
  const nodeId = options.nodeId ?? 'endpoints-node';
  const secret = `endpoints-${randomBytes(12).toString('hex')}`;
  const database = await createTestDatabase({ max: options.databaseConnections ?? 10 });
  const stateRoot = await mkdtemp(join(tmpdir(), 'kiln-endpoints-'));
  const stateDir = join(stateRoot, 'node');
  const scheduler = createScheduler({
    db: database.db,
    heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 15_000,
  });
  const ticker = setInterval(
    () => void scheduler.tick().catch(() => undefined),
    options.schedulerTickMs ?? 500,
  );
  const gateway = spawnGatewayProcess({
    id: nodeId,
    secret,
    stateDir,
    databaseUrl: database.url,
    cpu: 4,
    memoryMiB: 8192,
    heartbeatSeconds: options.gatewayHeartbeatSeconds,
    env: {
      KILN_KERNEL_PRELOAD: '',
      KILN_MAX_VOLUME_MIB: String(TEST_VOLUME_QUOTA_MIB),
      ...(options.pipIndexUrl ? { KILN_PIP_INDEX_URL: options.pipIndexUrl } : {}),
    },
  });
  await gateway.registered;
  const vault = createSecretsVault({
    db: database.db,
    keyring: createKeyring(parseSecretsKey(generateSecretsKey())),
  });
  const volumes = createVolumes({ db: database.db, quotas: { TEAM: TEST_VOLUME_QUOTA_MIB } });
  const runtime = createEndpointRuntime({
    db: database.db,
    host: createKernelReplicaHost({ scheduler, secret, secrets: vault, volumes }),
    tickMs: 250,
  });
  const handler = createEndpointHandler({ runtime, maxBodyBytes: options.maxBodyBytes ?? 64 * 1024 });
  const server = createServer((request, response) => {
    void handler(request, response).then((handled) => {
      if (!handled) response.writeHead(404).end();
    });
  });
  if (options.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = options.keepAliveTimeoutMs;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const node = await database.db.node.findUniqueOrThrow({ where: { id: nodeId } });
  return {
    database,
    scheduler,
    runtime,
    vault,
    volumes,
    nodeUrl: node.url,
    secret,
    stateDir,
    base,
    async workspace(plan = 'TEAM') {
      const suffix = randomBytes(4).toString('hex');
      return database.db.workspace.create({ data: { name: `ws ${suffix}`, slug: `ws-${suffix}`, plan } });
    },
    async call(slug, label, init = {}) {
      const headers = new Headers(init.headers);
      if (init.token) headers.set('authorization', `Bearer ${init.token}`);
      if (init.body !== undefined) headers.set('content-type', 'application/json');
      const response = await fetch(`${base}/e/${slug}/${label}${init.query ?? ''}`, { ...init, headers });
      const text = await response.text();
      return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
    },
    replicaContainers: (endpointId) =>
      scheduler.list({ ownerId: endpointId, states: ['queued', 'starting', 'running'] }),
    async close() {
      clearInterval(ticker);
      await runtime.close();
      server.close();
      await gateway.stop();
      await scheduler.close();
      await database.drop();
      await rm(stateRoot, { recursive: true, force: true });
    },
  };
}
