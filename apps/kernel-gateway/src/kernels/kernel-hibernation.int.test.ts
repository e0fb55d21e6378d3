import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { KernelAPI, KernelManager, ServerConnection } from '@jupyterlab/services';
import type { KernelChannel } from '@kiln/kernel-protocol/client';
import { createGatewayClient, type GatewayClient } from '@kiln/kernel-protocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { eventually } from '../../test/harness.ts';
import { startRunscGateway } from '../../test/runsc-gateway.ts';
import type { RunscKernelSandbox } from '../sandbox/kernel-sandbox.ts';
import { TEST_STATE_DIR } from '../sandbox/testing.ts';

// A real runsc kernel left idle is checkpointed to disk and comes back, variables intact, on its next message.
let gateway: Awaited<ReturnType<typeof startRunscGateway>>;
let client: GatewayClient;
let kernelId: string;

beforeAll(async () => {
  gateway = await startRunscGateway({ hibernateIdleMs: 1500, cullIntervalMs: 250 });
  client = createGatewayClient({ baseUrl: gateway.url, token: gateway.tokenA });
  kernelId = (await client.startKernel({ resources: { cpu: 1, memoryMiB: 1024 } })).id;
}, 900_000);

afterAll(async () => {
  await gateway?.close();
});

function runningContainers(): string {
  return execFileSync('runsc', [`--root=${TEST_STATE_DIR}/runsc`, 'list']).toString();
}

async function hibernated(): Promise<void> {
  await eventually(async () => (await client.getKernel(kernelId)).hibernation === 'hibernated', 60_000);
}

function result(iopub: Awaited<ReturnType<KernelChannel['execute']>>['iopub']): unknown {
  return iopub.find((m) => m.header.msg_type === 'execute_result')?.content.data;
}

describe('kernel hibernation in runsc', () => {
  it('hibernates an idle kernel, frees its sandbox, and wakes it with variables intact', async () => {
    const channel = await client.connect(kernelId);
    expect((await channel.execute('x = 41')).reply.content.status).toBe('ok');
    const sandbox = gateway.gateway.kernels.get(gateway.workspaceA, kernelId)
      .currentSandbox as RunscKernelSandbox;
    const containerId = sandbox.containerId;
    expect(runningContainers()).toContain(containerId);

    await hibernated();
    expect((await client.getKernel(kernelId)).execution_state).toBe('hibernated');
    expect(runningContainers()).not.toContain(containerId);

    // Sent over the socket that stayed open: held while the checkpoint is restored, then run.
    const { reply, iopub } = await channel.execute('x + 1');
    expect(reply.content.status).toBe('ok');
    expect(result(iopub)).toEqual({ 'text/plain': '42' });
    expect((await client.getKernel(kernelId)).execution_state).toBe('idle');
    await channel.close();
  }, 120_000);

  it('wakes for a new channels connection and keeps state across a second sleep', async () => {
    await hibernated();
    const channel = await client.connect(kernelId);
    const { iopub } = await channel.execute('x * 2');
    expect(result(iopub)).toEqual({ 'text/plain': '82' });
    await channel.close();
  }, 120_000);

  it('opens a terminal in a hibernated kernel once it has woken', async () => {
    await hibernated();
    const terminal = gateway.gateway.kernels.get(gateway.workspaceA, kernelId).openTerminal(80, 24);
    let output = '';
    terminal.onData((data) => {
      output += data;
    });
    terminal.write('echo kiln-$((6 * 7))\n');
    await eventually(() => output.includes('kiln-42'), 60_000);
    expect((await client.getKernel(kernelId)).hibernation).toBe('awake');
    terminal.kill();
  }, 120_000);

  it('lets unmodified @jupyterlab/services list a hibernated kernel and run a cell in it', async () => {
    await hibernated();
    const settings = ServerConnection.makeSettings({
      baseUrl: `${gateway.url}/`,
      wsUrl: `${gateway.wsUrl}/`,
      token: gateway.tokenA,
      appendToken: true,
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      fetch: fetch as never,
    });
    const model = (await KernelAPI.listRunning(settings)).find((m) => m.id === kernelId);
    expect(model?.execution_state).toBe('hibernated');
    const manager = new KernelManager({ serverSettings: settings });
    await manager.ready;
    const kernel = manager.connectTo({ model: { id: kernelId, name: 'python3' } });
    const future = kernel.requestExecute({ code: 'x + 2' });
    const data = new Promise<unknown>((resolve) => {
      future.onIOPub = (message) => {
        if (message.header.msg_type === 'execute_result')
          resolve((message.content as { data: unknown }).data);
      };
    });
    expect((await future.done).content.status).toBe('ok');
    expect(await data).toEqual({ 'text/plain': '43' });
    kernel.dispose();
    manager.dispose();
  }, 120_000);

  it('keeps no secret value of a hibernated kernel in clear anywhere on disk, and restores it', async () => {
    const value = `kiln-hibernated-secret-${randomUUID()}`;
    const id = (
      await client.startKernel({ resources: { cpu: 1, memoryMiB: 1024 }, env: { KILN_TEST_TOKEN: value } })
    ).id;
    const channel = await client.connect(id);
    const code = 'import os\nkept = os.environ["KILN_TEST_TOKEN"] * 3';
    expect((await channel.execute(code)).reply.content.status).toBe('ok');
    await eventually(async () => (await client.getKernel(id)).hibernation === 'hibernated', 60_000);

    // The image is the kernel's memory; grep every file the gateway keeps (volume images aside) for the value.
    const found = (dir: string) => {
      try {
        return execFileSync('grep', ['-rlF', '-D', 'skip', '--exclude=*.ext4', value, dir]).toString();
      } catch (error) {
        if ((error as { status?: number }).status === 1) return '';
        throw error;
      }
    };
    const sealed = execFileSync('find', [TEST_STATE_DIR, '-path', '*/hibernate/*', '-type', 'f']).toString();
    expect(sealed.trim()).not.toBe('');
    expect(found(TEST_STATE_DIR)).toBe('');
    expect(found('/dev/shm')).toBe('');

    const { iopub } = await channel.execute('kept == os.environ["KILN_TEST_TOKEN"] * 3 and len(kept)');
    expect(result(iopub)).toEqual({ 'text/plain': String(value.length * 3) });
    await channel.close();
    await client.shutdownKernel(id);
  }, 180_000);
});
