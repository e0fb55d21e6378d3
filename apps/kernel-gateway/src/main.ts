import { loadEnv } from './env.ts';
import { createGateway } from './http/gateway.ts';
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
  const gateway = createGateway({
    driver,
    token: env.KILN_GATEWAY_TOKEN,
    maxKernels: env.KILN_MAX_KERNELS,
    defaultResources: { cpu: env.KILN_KERNEL_CPU, memoryMiB: env.KILN_KERNEL_MEMORY_MIB, gpu: null },
    outputBufferBytes: env.KILN_OUTPUT_BUFFER_MIB * MIB,
    maxMessageBytes: env.KILN_MAX_MESSAGE_MIB * MIB,
    kernelInfoTimeoutMs: env.KILN_KERNEL_INFO_TIMEOUT_SECONDS * 1000,
    cullIdleMs: env.KILN_CULL_IDLE_SECONDS * 1000,
    cullIntervalMs: env.KILN_CULL_INTERVAL_SECONDS * 1000,
    cullConnected: env.KILN_CULL_CONNECTED,
    hibernateIdleMs: env.KILN_HIBERNATE_IDLE_SECONDS * 1000,
    onHibernateFailed: (kernel, error) =>
      console.error(`[kernel-gateway] could not hibernate kernel ${kernel.id}; it stays awake:`, error),
  });
  const { url } = await gateway.listen(env.PORT, env.HOST);
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
    await driver.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
