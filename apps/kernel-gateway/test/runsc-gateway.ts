import { randomUUID } from 'node:crypto';
import { workspaceToken } from '../src/client/workspace-token.ts';
import { createGateway, type GatewayOptions } from '../src/http/gateway.ts';
import { DevHostDriver as FakeDriver } from './dev-host-driver.ts';

const ADMIN = `int-${randomUUID()}`;

/** A gateway over real runsc kernels for *.int.test.ts (call close() in afterAll). */
export async function startRunscGateway(options: Partial<GatewayOptions> = {}) {
  const driver = new FakeDriver();
  const gateway = createGateway({ ...options, driver, token: ADMIN });
  const { url } = await gateway.listen(0);
  const workspaceA = randomUUID();
  const workspaceB = randomUUID();
  return {
    url,
    wsUrl: url.replace('http', 'ws'),
    admin: ADMIN,
    workspaceA,
    workspaceB,
    tokenA: workspaceToken(ADMIN, workspaceA),
    tokenB: workspaceToken(ADMIN, workspaceB),
    gateway,
    async close() {
      await gateway.close();
      await driver.close();
    },
  };
}
