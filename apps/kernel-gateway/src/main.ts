import { availableParallelism, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { isUuid } from '@kiln/core';
import { createDb } from '@kiln/db';
import { createScheduler } from '@kiln/scheduler';
import { loadEnv } from './env.ts';
import { createGateway } from './http/gateway.ts';
import { createImageBuilder } from './images/image-builder.ts';
import { declaredGpus, lastingNodeId, nodeIdentity } from './node/node-identity.ts';
import { createSchedulerNode, type SchedulerNode } from './node/scheduler-node.ts';
import { createEnvSeal } from './sandbox/env-seal.ts';
import { SANDBOX_UID } from './sandbox/oci-spec.ts';
import { createRunscDriver } from './sandbox/runsc-driver.ts';
import { probeRunsc } from './sandbox/runsc-probe.ts';
import { ensureSandboxImage } from './sandbox/sandbox-image.ts';

const MIB = 1024 * 1024;

async function main(): Promise<void> {
  const env = loadEnv();
  // Asked of runsc while the image is found, without blocking: seconds when runsc changed, ms when not.
  const runscProbe = probeRunsc({
    runscPath: env.KILN_RUNSC_PATH,
    platform: env.KILN_RUNSC_PLATFORM,
    cacheFile: join(env.KILN_STATE_DIR, 'runsc-features.json'),
  });
  // Fails on its own later if the image step throws first; never an unhandled rejection meanwhile.
  runscProbe.catch(() => undefined);
  const imageDir = env.KILN_IMAGE_DIR ?? (await ensureSandboxImage());
  const images = createImageBuilder({
    baseImageDir: imageDir,
    imagesDir: env.KILN_WORKSPACE_IMAGES_DIR ?? join(dirname(imageDir), 'workspace-images'),
    pipIndexUrl: env.KILN_PIP_INDEX_URL,
    timeoutMs: env.KILN_IMAGE_BUILD_TIMEOUT_SECONDS * 1000,
    maxLogBytes: env.KILN_IMAGE_BUILD_LOG_KIB * 1024,
    // The runsc driver keeps each workspace image's kernel snapshots here (snapshot-template.ts).
    imageSnapshotsDir: join(env.KILN_STATE_DIR, 'snapshots', 'images'),
  });
  // Kernel records on disk hold the kernels' env only sealed, under a key from the gateway's own secret.
  const envSeal = createEnvSeal(env.KILN_GATEWAY_TOKEN);
  const runsc = await runscProbe;
  const driver = createRunscDriver({
    images,
    stateDir: env.KILN_STATE_DIR,
    imageDir,
    runscPath: env.KILN_RUNSC_PATH,
    warmPoolSize: env.KILN_WARM_POOL_SIZE,
    warmPoolPerWorkspace: env.KILN_WARM_POOL_PER_WORKSPACE,
    snapshots: env.KILN_SNAPSHOTS,
    features: runsc.features,
    maxDiskMiB: env.KILN_MAX_DISK_MIB,
    maxVolumeMiB: env.KILN_MAX_VOLUME_MIB,
    preload: env.KILN_KERNEL_PRELOAD,
    hibernationScratchDir: env.KILN_HIBERNATION_SCRATCH_DIR,
    envSeal,
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
          reservedMemoryMiB: () => driver.reservedMemoryMiB(),
        })
      : null;
  const gateway = createGateway({
    driver,
    images,
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
    // /workspace, or a named volume by id (the web app checked it is the workspace's and sent its quota).
    volumes: async (workspaceId, volume, quotaMiB) =>
      volume === 'workspace'
        ? driver.workspaceVolume(workspaceId)
        : isUuid(volume) && quotaMiB
          ? driver.namedVolumes.dir(workspaceId, volume, quotaMiB)
          : null,
    destroyVolume: (workspaceId, volume) =>
      volume === 'workspace'
        ? driver.destroyWorkspaceVolume(workspaceId)
        : driver.namedVolumes.destroy(workspaceId, volume),
    volumeOwner: { uid: SANDBOX_UID, gid: SANDBOX_UID },
    // A node serves only the disks it holds (or is receiving): a late write never re-makes a moved one.
    ...(node
      ? { diskRefusal: (workspaceId: string, volume: string) => node.diskRefusal(workspaceId, volume) }
      : {}),
    onHibernateFailed: (kernel, error) =>
      console.error(`[kernel-gateway] could not hibernate kernel ${kernel.id}; it stays awake:`, error),
    recordDir: join(env.KILN_STATE_DIR, 'kernels'),
    envSeal,
  });
  // Kernels a crashed gateway left exist before anyone can ask for them, so a client reconnecting never
  // hears "gone" about a kernel that is still alive; their agents reconnect in the background (seconds
  // on a loaded machine), and a kernel whose agent does not is stopped with the reason.
  const adoption = await gateway.kernels.adopt({
    agentTimeoutMs: env.KILN_ADOPTION_TIMEOUT_SECONDS * 1000,
    onStopped: (id, reason) => console.log(`[kernel-gateway] stopped kernel ${id}: ${reason}`),
  });
  if (adoption.adopted.length > 0 || adoption.stopped.length > 0)
    void adoption.settled.then((settled) =>
      console.log(
        `[kernel-gateway] re-adopted ${settled.adopted.length} kernels left by the previous gateway process; stopped ${settled.stopped.length}`,
      ),
    );
  const { url } = await gateway.listen(env.PORT, env.HOST);
  const port = new URL(url).port;
  if (node) {
    const id = await lastingNodeId(env, Number(port));
    await node.start({ id, url: env.KILN_NODE_URL ?? url }, gateway.kernels);
  }
  const probed = `runsc features ${runsc.cached ? 'cached' : 'probed'} in ${Math.round(runsc.ms)} ms`;
  console.log(`[kernel-gateway] listening on ${url} (${driver.describe()}; ${probed}; image ${imageDir})`);
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
