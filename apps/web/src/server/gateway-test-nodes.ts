import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { isUuid } from '@kiln/core';
import type { Db } from '@kiln/db';
import { createGateway, type Gateway, type GatewayOptions } from '@kiln/kernel-gateway';
import { createScheduler, discoverGpus } from '@kiln/scheduler';
import { createSchedulerNode } from '../../../kernel-gateway/src/node/scheduler-node.ts';
import type { NamedVolumes } from '../../../kernel-gateway/src/sandbox/named-volumes.ts';
// The sandbox stand-in of the gateway's own tests: in-process nodes test placement and disks, not kernels.
import { FakeDriver } from '../../../kernel-gateway/test/fake-driver.ts';

// Gateway nodes for the web app's integration tests, in the two forms they take: a real
// `apps/kernel-gateway` process (runsc kernels, as a deployment runs it), or an in-process gateway on the
// sandbox stand-in (where placement and disks are tested, not kernels). Both join the scheduler over the
// test's Postgres; each test keeps its own figures and settings.
const MAIN = fileURLToPath(new URL('../../../kernel-gateway/src/main.ts', import.meta.url));

export interface GatewayProcessOptions {
  id: string;
  /** The gateway's shared secret (KILN_GATEWAY_TOKEN). */
  secret: string;
  stateDir: string;
  databaseUrl: string;
  /** What the node declares (default 1 CPU, 4 GiB). */
  cpu?: number;
  memoryMiB?: number;
  /** How often it heartbeats (default 1 s, so a node is seen lost quickly; null: the node's own default). */
  heartbeatSeconds?: number | null;
  /** Further settings (KILN_SNAPSHOTS, KILN_HIBERNATE_IDLE_SECONDS, …), over these. */
  env?: Record<string, string>;
}

export interface GatewayProcess {
  child: ChildProcess;
  /** Settles once the node says it registered; rejects with its log if it exits first. */
  registered: Promise<void>;
  /** Kills it with `signal` (SIGKILL: a crashed node) and waits for it to exit; nothing if it has. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts `apps/kernel-gateway` as node `id`. It is returned at once, before `registered`, so a test can
 * hold it for its clean-up even if the wait for registration times out.
 */
export function spawnGatewayProcess(options: GatewayProcessOptions): GatewayProcess {
  const { id, heartbeatSeconds = 1 } = options;
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      KILN_GATEWAY_TOKEN: options.secret,
      KILN_STATE_DIR: options.stateDir,
      DATABASE_URL: options.databaseUrl,
      KILN_NODE_ID: id,
      KILN_NODE_CPU: String(options.cpu ?? 1),
      KILN_NODE_MEMORY_MIB: String(options.memoryMiB ?? 4096),
      KILN_GPUS: 'none',
      ...(heartbeatSeconds ? { KILN_HEARTBEAT_SECONDS: String(heartbeatSeconds) } : {}),
      // Kernels start cold: a warm pool would start sandboxes no test asked for.
      KILN_WARM_POOL_SIZE: '0',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const registered = new Promise<void>((resolve, reject) => {
    const read = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes(`node ${id} registered`)) resolve();
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.once('exit', (code) => reject(new Error(`gateway ${id} exited with ${code}:\n${log}`)));
  });
  return {
    child,
    registered,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await once(child, 'exit');
    },
  };
}

export interface InProcessNodeOptions {
  id: string;
  db: Db;
  secret: string;
  /** What the node declares (default 4 CPUs, 8 GiB, no GPUs). */
  cpu?: number;
  memoryMiB?: number;
  gpus?: NonNullable<Parameters<typeof discoverGpus>[0]>['declared'];
  heartbeatMs: number;
  /** The node's disks of named volumes, when the test uses them (closed with the node). */
  namedVolumes?: NamedVolumes;
  images?: GatewayOptions['images'];
  /** The sandbox stand-in (default a plain one); a test may hold its starts. */
  driver?: FakeDriver;
  /** Refuse file-API access to disks this node does not hold, as `main.ts` wires it for scheduler nodes. */
  diskRefusal?: boolean;
}

export interface InProcessNode {
  url: string;
  gateway: Gateway;
  /** Closes the gateway, its scheduler node and disks; a second call does nothing. */
  stop(): Promise<void>;
}

/** An in-process gateway on the sandbox stand-in, registered as node `id` with a scheduler of its own. */
export async function startInProcessNode(options: InProcessNodeOptions): Promise<InProcessNode> {
  const { id, namedVolumes } = options;
  const scheduler = createScheduler({ db: options.db });
  const node = createSchedulerNode({
    scheduler,
    identity: {
      cpu: options.cpu ?? 4,
      memoryMiB: options.memoryMiB ?? 8192,
      gpus: await discoverGpus({ declared: options.gpus ?? [] }),
    },
    heartbeatMs: options.heartbeatMs,
    log: () => undefined,
  });
  const gateway = createGateway({
    driver: options.driver ?? new FakeDriver(),
    token: options.secret,
    admission: node.admission,
    images: options.images,
    volumes:
      namedVolumes &&
      (async (workspaceId, volume, quotaMiB) =>
        isUuid(volume) && quotaMiB ? namedVolumes.dir(workspaceId, volume, quotaMiB) : null),
    destroyVolume: namedVolumes && ((workspaceId, volume) => namedVolumes.destroy(workspaceId, volume)),
    diskRefusal: options.diskRefusal
      ? (workspaceId, volume) => node.diskRefusal(workspaceId, volume)
      : undefined,
  });
  const { url } = await gateway.listen(0);
  await node.start({ id, url }, gateway.kernels);
  let stopped = false;
  return {
    url,
    gateway,
    async stop() {
      if (stopped) return;
      stopped = true;
      await gateway.close();
      await node.close();
      await scheduler.close();
      await namedVolumes?.close();
    },
  };
}
