import { availableParallelism, totalmem } from 'node:os';
import { createDb } from '@kiln/db';
import { createScheduler } from '@kiln/scheduler';
import { loadEnv } from './env.ts';
import { createGateway } from './http/gateway.ts';
import { declaredGpus, nodeId, nodeIdentity } from './node/node-identity.ts';
import { createSchedulerNode, type SchedulerNode } from './node/scheduler-node.ts';
import { SANDBOX_UID } from './sandbox/oci-spec.ts';
import { createRunscDriver } from './sandbox/runsc-driver.ts';
import { ensureSandboxImage } from './sandbox/sandbox-image.ts';

const MIB = 1024 * 1024;

async function main(): Promise<void> {
  const env = loadEnv();
  const imageDir = env.KILN_IMAGE_DIR ?? (await ensureSandboxImage());
  const driver = createRunscDriver({
    stateDir: env.KILN_STATE_DIR,
    imageDir,
    runscPath: env.KILN_RUNSC_PATH,
    warmPoolSize: env.KILN_WARM_POOL_SIZE,
    warmPoolPerWorkspace: env.KILN_WARM_POOL_PER_WORKSPACE,
    snapshots: env.KILN_SNAPSHOTS,
    platform: env.KILN_RUNSC_PLATFORM,
    maxDiskMiB: env.KILN_MAX_DISK_MIB,
    preload: env.KILN_KERNEL_PRELOAD,
  });
  if (env.KILN_GPUS) declaredGpus(env.KILN_GPUS);
  // With a database the gateway is a scheduler node: the scheduler places every kernel and its limits hold.
  const db = env.DATABASE_URL ? createDb(env.DATABASE_URL, { max: 4 }) : null;
  const identity = db ? await nodeIdentity(env) : null;
  const node: SchedulerNode | null =
    db && identity
      ? createSchedulerNode({
          scheduler: createScheduler({ db }),
          identity,
          heartbeatMs: env.KILN_HEARTBEAT_SECONDS * 1000,
        })
      : null;
  const gateway = createGateway({
    driver,
    token: env.KILN_GATEWAY_TOKEN,
    maxKernelsPerWorkspace: env.KILN_MAX_KERNELS_PER_WORKSPACE,
    maxResources: {
      cpu: env.KILN_MAX_KERNEL_CPU ?? identity?.cpu ?? availableParallelism(),
      memoryMiB: env.KILN_MAX_KERNEL_MEMORY_MIB ?? identity?.memoryMiB ?? Math.floor(totalmem() / MIB),
    },
    admission: node?.admission,
    defaultResources: { cpu: env.KILN_KERNEL_CPU, memoryMiB: env.KILN_KERNEL_MEMORY_MIB, gpu: null },
    outputBufferBytes: env.KILN_OUTPUT_BUFFER_MIB * MIB,
    maxMessageBytes: env.KILN_MAX_MESSAGE_MIB * MIB,
    kernelInfoTimeoutMs: env.KILN_KERNEL_INFO_TIMEOUT_SECONDS * 1000,
    cullIdleMs: env.KILN_CULL_IDLE_SECONDS * 1000,
    cullIntervalMs: env.KILN_CULL_INTERVAL_SECONDS * 1000,
    cullConnected: env.KILN_CULL_CONNECTED,
    hibernateIdleMs: env.KILN_HIBERNATE_IDLE_SECONDS * 1000,
    // The one volume today: the directory kernels of the workspace see at /workspace.
    volumes: async (workspaceId, volume) =>
      volume === 'workspace' ? driver.workspaceVolume(workspaceId) : null,
    volumeOwner: { uid: SANDBOX_UID, gid: SANDBOX_UID },
    onHibernateFailed: (kernel, error) =>
      console.error(`[kernel-gateway] could not hibernate kernel ${kernel.id}; it stays awake:`, error),
  });
  const { url } = await gateway.listen(env.PORT, env.HOST);
  const port = new URL(url).port;
  await node?.start({ id: nodeId(env, Number(port)), url: env.KILN_NODE_URL ?? url }, gateway.kernels);
  console.log(`[kernel-gateway] listening on ${url} (${driver.describe()}, image ${imageDir})`);
  // The first kernel should not pay for building the snapshot; failures fall back to cold boots.
  void driver.prepare().then(
    () => console.log(`[kernel-gateway] sandboxes ready (snapshots: ${driver.capabilities().checkpoint})`),
    (error: unknown) => console.error('[kernel-gateway] preparing sandboxes failed', error),
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[kernel-gateway] ${signal}: shutting down kernels`);
    await gateway.close();
    await node?.close();
    await driver.close();
    await db?.$disconnect();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
