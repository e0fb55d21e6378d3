import { randomUUID } from 'node:crypto';
import { createGateway } from '@kiln/kernel-gateway';
import { createGatewayClient } from '@kiln/kernel-gateway/client';
import type { ExecutionGateway } from '../types.ts';
import { HostAgentDriver } from './host-agent-driver.ts';

const ADMIN = `exec-int-${randomUUID()}`;

/** A kernel gateway on port 0 over real kernels, and a client factory per workspace (close() it in afterAll). */
export async function startKernelGateway() {
  const driver = new HostAgentDriver();
  const gateway = createGateway({ driver, token: ADMIN, kernelInfoTimeoutMs: 60_000 });
  const { url } = await gateway.listen(0);
  return {
    url,
    client: (workspaceId: string) => createGatewayClient({ baseUrl: url, token: ADMIN, workspaceId }),
    gateway: (workspaceId: string): ExecutionGateway =>
      createGatewayClient({ baseUrl: url, token: ADMIN, workspaceId }),
    async close() {
      await gateway.close();
      await driver.close();
    },
  };
}
