import { randomUUID } from 'node:crypto';
import { workspaceToken } from '@kiln/kernel-protocol/client';
import { createGateway, type GatewayOptions } from '../src/http/gateway.ts';
import { createImageBuilder, type ImageBuilderOptions } from '../src/images/image-builder.ts';
import { createRunscDriver } from '../src/sandbox/runsc-driver.ts';
import { probeRunsc } from '../src/sandbox/runsc-probe.ts';
import { ensureSandboxImage } from '../src/sandbox/sandbox-image.ts';
import { removeTestState, TEST_STATE_DIR } from '../src/sandbox/testing.ts';

/** A gateway over real runsc kernels for *.int.test.ts (call close() in afterAll). */
export async function startRunscGateway(
  options: Partial<GatewayOptions> = {},
  imageOptions: Omit<ImageBuilderOptions, 'baseImageDir'> | null = null,
) {
  const admin = `int-${randomUUID()}`;
  const imageDir = await ensureSandboxImage();
  const images = imageOptions ? createImageBuilder({ ...imageOptions, baseImageDir: imageDir }) : undefined;
  const driver = createRunscDriver({
    stateDir: TEST_STATE_DIR,
    imageDir,
    warmPoolSize: 0,
    images,
    features: (await probeRunsc()).features,
  });
  await driver.prepare();
  const gateway = createGateway({ ...options, driver, images, token: admin });
  const { url } = await gateway.listen(0);
  const workspaceA = randomUUID();
  const workspaceB = randomUUID();
  return {
    url,
    wsUrl: url.replace('http', 'ws'),
    admin,
    workspaceA,
    workspaceB,
    tokenA: workspaceToken(admin, workspaceA),
    tokenB: workspaceToken(admin, workspaceB),
    gateway,
    stateDir: TEST_STATE_DIR,
    async close() {
      await gateway.close();
      await driver.close();
      await removeTestState();
    },
  };
}
