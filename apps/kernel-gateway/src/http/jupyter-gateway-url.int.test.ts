import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGatewayClient } from '@kiln/kernel-protocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRunscGateway } from '../../test/runsc-gateway.ts';

// A stock Jupyter Server 1.23 in `--gateway-url` mode runs its kernels on this gateway (runsc kernels).
let gateway: Awaited<ReturnType<typeof startRunscGateway>>;
let jupyter: ChildProcess;
let jupyterUrl: string;
const JUPYTER_TOKEN = `jt-${crypto.randomUUID()}`;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  gateway = await startRunscGateway();
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'kiln-jupyter-'));
  jupyter = spawn(
    '/usr/bin/python3',
    [
      '-m',
      'jupyter_server',
      `--ServerApp.token=${JUPYTER_TOKEN}`,
      `--ServerApp.port=${port}`,
      '--allow-root',
      '--ServerApp.open_browser=False',
      `--ServerApp.root_dir=${dir}`,
      `--gateway-url=${gateway.url}`,
      `--GatewayClient.auth_token=${gateway.admin}`,
    ],
    {
      stdio: 'ignore',
      env: { ...process.env, JUPYTER_RUNTIME_DIR: join(dir, 'runtime'), KERNEL_USERNAME: 'ada' },
    },
  );
  jupyterUrl = `http://127.0.0.1:${port}`;
  const probe = createGatewayClient({ baseUrl: jupyterUrl, token: JUPYTER_TOKEN });
  for (let i = 0; i < 150; i++) {
    if (
      await probe.listKernels().then(
        () => true,
        () => false,
      )
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('Jupyter Server did not start');
}, 900_000);

afterAll(async () => {
  jupyter?.kill('SIGTERM');
  await gateway?.close();
});

describe('jupyter server --gateway-url', () => {
  it('starts, runs and shuts down a kernel on the gateway', async () => {
    const viaJupyter = createGatewayClient({ baseUrl: jupyterUrl, token: JUPYTER_TOKEN });
    const kernel = await viaJupyter.startKernel({ name: 'python3' });
    const onGateway = createGatewayClient({ baseUrl: gateway.url, token: gateway.admin });
    expect((await onGateway.listKernels()).map((k) => k.id)).toEqual([kernel.id]);
    const channel = await viaJupyter.connect(kernel.id, { protocol: 'legacy' });
    const { iopub, reply } = await channel.execute("print('through two servers')\n6 * 7");
    expect(reply.content.status).toBe('ok');
    expect(iopub.map((m) => m.header.msg_type)).toEqual([
      'status',
      'execute_input',
      'stream',
      'execute_result',
      'status',
    ]);
    expect(iopub[2]?.content.text).toBe('through two servers\n');
    await channel.close();
    await viaJupyter.shutdownKernel(kernel.id);
    expect(await onGateway.listKernels()).toEqual([]);
  }, 120_000);
});
