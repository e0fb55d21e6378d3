import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGateway } from '@kiln/kernel-gateway';
import { createRunscDriver, ensureSandboxImage, probeRunsc } from '@kiln/kernel-gateway/sandbox';
import { createGatewayClient } from '@kiln/kernel-protocol/client';
import type { ExecutionGateway } from '../types.ts';

const ADMIN = `exec-int-${randomUUID()}`;

/** A kernel gateway on port 0 over real runsc kernels, and clients per workspace (close() it in afterAll). */
export async function startKernelGateway() {
  // Per run: a fixed name would let concurrent runs and clones reap each other's sandboxes.
  const stateDir = await mkdtemp(join(tmpdir(), 'kiln-execution-test-'));
  const driver = createRunscDriver({
    stateDir,
    imageDir: await ensureSandboxImage(),
    warmPoolSize: 1,
    features: (await probeRunsc()).features,
  });
  await driver.prepare();
  const gateway = createGateway({ driver, token: ADMIN, kernelInfoTimeoutMs: 60_000 });
  const { url } = await gateway.listen(0);
  // `baseUrl`: reach the gateway through something else (a proxy standing in for the network).
  const client = (workspaceId: string, baseUrl = url) =>
    createGatewayClient({ baseUrl, token: ADMIN, workspaceId });
  return {
    url,
    client,
    gateway: (workspaceId: string): ExecutionGateway => client(workspaceId),
    /** As `gateway`, reached at `baseUrl` (a proxy in front of this gateway). */
    gatewayVia:
      (baseUrl: string) =>
      (workspaceId: string): ExecutionGateway =>
        client(workspaceId, baseUrl),
    async close() {
      await gateway.close();
      await driver.close();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
