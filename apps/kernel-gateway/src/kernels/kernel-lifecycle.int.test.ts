import { CloseCode } from '@kiln/core';
import { encodeV1 } from '@kiln/kernel-protocol';
import {
  ChannelRefused,
  createGatewayClient,
  type GatewayClient,
  GatewayError,
} from '@kiln/kernel-protocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startRunscGateway } from '../../test/runsc-gateway.ts';

// Lifecycle and abuse against real runsc kernels: limits, workspaces, bad frames, death and restart.
let gateway: Awaited<ReturnType<typeof startRunscGateway>>;
let alice: GatewayClient;
let mallory: GatewayClient;
let kernelId: string;

beforeAll(async () => {
  gateway = await startRunscGateway({ maxKernelsPerWorkspace: 1 });
  alice = createGatewayClient({ baseUrl: gateway.url, token: gateway.tokenA });
  mallory = createGatewayClient({ baseUrl: gateway.url, token: gateway.tokenB });
  kernelId = (await alice.startKernel({ resources: { cpu: 1, memoryMiB: 1024 } })).id;
}, 900_000);

afterAll(async () => {
  await gateway?.close();
});

async function channelWrite(id: string, code: string) {
  const channel = await alice.connect(id);
  const { reply } = await channel.execute(code);
  await channel.close();
  expect(reply.content.status).toBe('ok');
}

describe('kernel lifecycle in runsc', () => {
  it("keeps another workspace's token away from the kernel", async () => {
    expect(await mallory.listKernels()).toEqual([]);
    await expect(mallory.getKernel(kernelId)).rejects.toMatchObject({ status: 404 });
    await expect(mallory.interruptKernel(kernelId)).rejects.toMatchObject({ status: 404 });
    await expect(mallory.shutdownKernel(kernelId)).rejects.toMatchObject({ status: 404 });
    const refused = await mallory.connect(kernelId).catch((error) => error);
    expect(refused).toBeInstanceOf(ChannelRefused);
    expect((refused as ChannelRefused).status).toBe(404);
    expect((await alice.getKernel(kernelId)).execution_state).toBe('idle');
  });

  it("refuses kernels past the workspace's limit with a clear error, while another workspace starts one", async () => {
    const second = await mallory.startKernel();
    const third = await alice.startKernel().catch((error) => error);
    expect(third).toBeInstanceOf(GatewayError);
    expect(third).toMatchObject({ status: 429, code: 'QUOTA_EXCEEDED' });
    expect((third as Error).message).toMatch(/limit of 1 kernel /);
    await mallory.shutdownKernel(second.id);
  }, 120_000);

  it('closes malformed and oversized frames clearly and keeps the kernel usable', async () => {
    const bad = await alice.connect(kernelId);
    bad.socket.send(Buffer.from('definitely not a kernel message'));
    expect(await bad.closed).toMatchObject({ code: CloseCode.invalidPayload });
    const big = await alice.connect(kernelId);
    big.socket.send(
      encodeV1(big.message('shell', 'comm_msg', { comm_id: 'x' }, [new Uint8Array(10 * 1024 * 1024 + 1)])),
    );
    expect((await big.closed).code).toBe(CloseCode.messageTooBig);
    const bogus = await alice.connect(kernelId);
    expect((await bogus.request('shell', 'warp_drive_request', {})).content).toMatchObject({
      status: 'error',
    });
    expect((await bogus.execute('1+1')).iopub.some((m) => m.header.msg_type === 'execute_result')).toBe(true);
    await bogus.close();
    await expect(alice.getKernel('00000000-0000-0000-0000-000000000001')).rejects.toMatchObject({
      status: 404,
    });
  }, 60_000);

  it('stops `while True: pass` within a second, over REST and the control channel', async () => {
    const channel = await alice.connect(kernelId);
    for (const via of ['rest', 'control'] as const) {
      let started!: () => void;
      const running = new Promise<void>((resolve) => (started = resolve));
      const done = channel.execute('while True: pass', {
        onMessage: (m) => m.header.msg_type === 'execute_input' && started(),
      });
      await running;
      await new Promise((resolve) => setTimeout(resolve, 200));
      if (via === 'rest') await alice.interruptKernel(kernelId);
      else await channel.request('control', 'interrupt_request', {});
      const { reply } = await done;
      expect(reply.content.ename, via).toBe('KeyboardInterrupt');
    }
    await channel.close();
  }, 60_000);

  it('replays output produced while the client was away', async () => {
    const sessionId = crypto.randomUUID();
    const first = await alice.connect(kernelId, { sessionId });
    first.send(
      first.message('shell', 'execute_request', {
        code: 'import time\ntime.sleep(1)\nfor i in range(5): print(i)',
        silent: false,
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    await first.close();
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const back = await alice.connect(kernelId, { sessionId });
    const texts: string[] = [];
    let replied = false;
    back.onMessage((m) => {
      if (m.header.msg_type === 'stream') texts.push(String(m.content.text));
      if (m.header.msg_type === 'execute_reply') replied = true;
    });
    for (let i = 0; i < 100 && !replied; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(replied).toBe(true);
    expect(texts.join('')).toBe('0\n1\n2\n3\n4\n');
    await back.close();
  }, 60_000);

  it('opens a terminal inside the same sandbox over the terminado protocol', async () => {
    const created = await fetch(`${gateway.url}/api/terminals`, {
      method: 'POST',
      headers: { authorization: `token ${gateway.tokenA}` },
      body: JSON.stringify({ kernel_id: kernelId, cols: 80, rows: 24 }),
    });
    expect(created.status).toBe(200);
    const { name } = (await created.json()) as { name: string };
    const socket = new WebSocket(`${gateway.wsUrl}/terminals/websocket/${name}?token=${gateway.tokenA}`);
    let output = '';
    socket.on('message', (data) => {
      const [kind, text] = JSON.parse(data.toString()) as [string, string];
      if (kind === 'stdout') output += text;
    });
    await new Promise((resolve) => socket.once('open', resolve));
    await channelWrite(kernelId, "open('/workspace/from-kernel.txt', 'w').write('kernel wrote this')");
    socket.send(JSON.stringify(['set_size', 30, 100]));
    socket.send(
      JSON.stringify(['stdin', 'echo "sum=$((6*7))"; cat /workspace/from-kernel.txt; echo; stty size\r']),
    );
    for (let i = 0; i < 200 && !/30 100/.test(output); i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(output).toContain('sum=42');
    expect(output).toContain('kernel wrote this');
    expect(output).toMatch(/30 100/);
    socket.close();
    const removed = await fetch(`${gateway.url}/api/terminals/${name}`, {
      method: 'DELETE',
      headers: { authorization: `token ${gateway.tokenA}` },
    });
    expect(removed.status).toBe(204);
  }, 60_000);

  it('reports why a kernel died and restarts it', async () => {
    const channel = await alice.connect(kernelId);
    const died = new Promise<string>((resolve) => {
      channel.onMessage((m) => {
        if (m.header.msg_type === 'status' && m.content.execution_state === 'dead') resolve('dead');
      });
    });
    channel.send(
      channel.message('shell', 'execute_request', { code: 'import os\nos._exit(3)', silent: false }),
    );
    await died;
    const model = await alice.getKernel(kernelId);
    expect(model.execution_state).toBe('dead');
    expect(model.reason).toBeTruthy();
    const restarted = await alice.restartKernel(kernelId);
    expect(restarted.execution_state).toBe('idle');
    await channel.close();
    const fresh = await alice.connect(kernelId);
    expect(
      (await fresh.execute('40 + 2')).iopub.find((m) => m.header.msg_type === 'execute_result')?.content.data,
    ).toEqual({
      'text/plain': '42',
    });
    await fresh.close();
  }, 120_000);
});
