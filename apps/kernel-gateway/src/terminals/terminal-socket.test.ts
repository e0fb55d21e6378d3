import { CloseCode } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startGateway } from '../../test/harness.ts';

function open(url: string) {
  const socket = new WebSocket(url);
  const messages: unknown[] = [];
  socket.on('message', (data) => messages.push(JSON.parse(data.toString())));
  return new Promise<{ socket: WebSocket; messages: unknown[] }>((resolve, reject) => {
    socket.once('open', () => resolve({ socket, messages }));
    socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

async function until(check: () => boolean) {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}

describe('terminals', () => {
  it("runs a terminado-protocol shell in the workspace's kernel sandbox", async () => {
    const { call, tokenA, tokenB, wsUrl } = await startGateway();
    expect((await call('POST', '/api/terminals', tokenA, {})).status).toBe(409);
    const kernel = (await call('POST', '/api/kernels', tokenA, {})).json;
    const created = await call('POST', '/api/terminals', tokenA, {
      kernel_id: kernel.id,
      cols: 100,
      rows: 30,
    });
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({ name: expect.any(String), kernel_id: kernel.id });
    const name = created.json.name as string;
    expect((await call('GET', '/api/terminals', tokenA)).json.map((t: { name: string }) => t.name)).toEqual([
      name,
    ]);

    const url = `${wsUrl}/terminals/websocket/${name}?token=${encodeURIComponent(tokenA)}`;
    await expect(
      open(`${wsUrl}/terminals/websocket/${name}?token=${encodeURIComponent(tokenB)}`),
    ).rejects.toThrow(/404/);
    const { socket, messages } = await open(url);
    await until(() => messages.length > 0);
    expect(messages[0]).toEqual(['setup', {}]);
    socket.send(JSON.stringify(['stdin', 'ls\r']));
    await until(() => messages.some((m) => JSON.stringify(m) === JSON.stringify(['stdout', 'echo:ls\r'])));
    socket.send(JSON.stringify(['set_size', 40, 120]));
    socket.send(JSON.stringify(['stdin', 'size']));
    await until(() => messages.some((m) => JSON.stringify(m) === JSON.stringify(['stdout', '120x40'])));

    const closed = new Promise<number>((resolve) => socket.once('close', resolve));
    socket.send('not json');
    expect(await closed).toBe(CloseCode.invalidPayload);

    const second = await open(url);
    await until(() => second.messages.some((m) => JSON.stringify(m).includes('echo:ls')));
    const gone = new Promise<number>((resolve) => second.socket.once('close', resolve));
    expect((await call('DELETE', `/api/terminals/${name}`, tokenA)).status).toBe(204);
    expect(await gone).toBe(CloseCode.normal);
    expect(second.messages.at(-1)).toEqual(['disconnect', 0]);
    expect((await call('GET', `/api/terminals/${name}`, tokenA)).status).toBe(404);
  });

  it('closes terminals when their kernel shuts down', async () => {
    const { call, tokenA } = await startGateway();
    const kernel = (await call('POST', '/api/kernels', tokenA, {})).json;
    const terminal = (await call('POST', '/api/terminals', tokenA, {})).json;
    expect(terminal.kernel_id).toBe(kernel.id);
    await call('DELETE', `/api/kernels/${kernel.id}`, tokenA);
    expect((await call('GET', '/api/terminals', tokenA)).json).toEqual([]);
  });
});
