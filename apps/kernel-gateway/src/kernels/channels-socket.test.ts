import { randomUUID } from 'node:crypto';
import { CloseCode } from '@kiln/core';
import { encodeV1, V1_PROTOCOL } from '@kiln/kernel-protocol';
import { connectChannel, type KernelChannel } from '@kiln/kernel-protocol/client';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { FakeDriver } from '../../test/fake-driver.ts';
import { eventually, startGateway } from '../../test/harness.ts';
import type { JupyterMessage } from '../sandbox/types.ts';

async function withKernel(options: Parameters<typeof startGateway<FakeDriver>>[0] = {}) {
  const harness = await startGateway(options);
  const kernel = (await harness.call('POST', '/api/kernels', harness.tokenA, {})).json;
  const url = `${harness.wsUrl}/api/kernels/${kernel.id}/channels`;
  const connect = (protocol: 'v1' | 'legacy' = 'v1', sessionId?: string) =>
    connectChannel({ url, token: harness.tokenA, protocol, sessionId });
  return { ...harness, kernel, url, connect };
}

function next(channel: KernelChannel, predicate: (m: JupyterMessage) => boolean, timeoutMs = 5000) {
  return new Promise<JupyterMessage>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no matching message')), timeoutMs);
    const off = channel.onMessage((message) => {
      if (!predicate(message)) return;
      clearTimeout(timer);
      off();
      resolve(message);
    });
  });
}

describe('kernel channels websocket', () => {
  it.each(['v1', 'legacy'] as const)(
    'runs code over the %s framing with outputs in order',
    async (protocol) => {
      const { connect, call, tokenA, kernel } = await withKernel();
      const channel = await connect(protocol);
      expect(channel.protocol).toBe(protocol);
      const frames: Array<{ binary: boolean }> = [];
      channel.socket.on('message', (_data, binary) => frames.push({ binary }));
      const { reply, iopub } = await channel.execute('21*2');
      expect(iopub.map((m) => m.header.msg_type)).toEqual([
        'status',
        'execute_input',
        'execute_result',
        'status',
      ]);
      expect(reply.content).toMatchObject({ status: 'ok', execution_count: 1 });
      expect(frames.every((f) => f.binary === (protocol === 'v1'))).toBe(true);
      expect((await call('GET', `/api/kernels/${kernel.id}`, tokenA)).json.connections).toBe(1);
      await channel.close();
      await eventually(
        async () => (await call('GET', `/api/kernels/${kernel.id}`, tokenA)).json.connections === 0,
      );
    },
  );

  it.each(['v1', 'legacy'] as const)('carries binary buffers intact over %s', async (protocol) => {
    const { connect } = await withKernel();
    const channel = await connect(protocol);
    const bytes = new Uint8Array(5 * 1024 * 1024).map((_, i) => (i * 7) % 256);
    const echoed = next(channel, (m) => m.header.msg_type === 'comm_msg');
    channel.send(
      channel.message('shell', 'comm_msg', { comm_id: 'c1', data: { kind: 'blob' } }, [
        bytes,
        new Uint8Array([0, 255]),
      ]),
    );
    const message = await echoed;
    expect(message.content).toMatchObject({ comm_id: 'c1', data: { kind: 'blob' } });
    expect(Buffer.from(message.buffers[0] as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
    expect(Array.from(message.buffers[1] as Uint8Array)).toEqual([0, 255]);
    await channel.close();
  });

  it('closes on malformed frames with a reason, answers unknown types, and stays up', async () => {
    const { connect, url, tokenA } = await withKernel();
    const channel = await connect('v1');
    const unknown = await channel.request('shell', 'teleport_request', {});
    expect(unknown.header.msg_type).toBe('teleport_reply');
    expect(unknown.content).toMatchObject({ status: 'error', ename: 'UnknownMessageType' });

    channel.socket.send(Buffer.from([1, 0, 0]));
    expect(await channel.closed).toMatchObject({
      code: CloseCode.invalidPayload,
      reason: expect.stringMatching(/Malformed/),
    });

    const legacy = new WebSocket(`${url}?token=${encodeURIComponent(tokenA)}`);
    await new Promise((resolve) => legacy.once('open', resolve));
    legacy.send('{"header": 5}');
    const closed = await new Promise<[number, string]>((resolve) =>
      legacy.once('close', (c, r) => resolve([c, r.toString()])),
    );
    expect(closed[0]).toBe(CloseCode.invalidPayload);
    expect(closed[1]).toMatch(/header must be a JSON object/);

    const again = await connect('legacy');
    expect((await again.execute('1+1')).reply.content.status).toBe('ok');
    await again.close();
  });

  it('closes with messageTooBig for a message over 10 MiB', async () => {
    const { connect } = await withKernel();
    const channel = await connect('v1');
    const big = channel.message('shell', 'comm_msg', { comm_id: 'c' }, [new Uint8Array(11 * 1024 * 1024)]);
    channel.socket.send(encodeV1(big));
    expect((await channel.closed).code).toBe(CloseCode.messageTooBig);
    const fresh = await connect('v1');
    expect((await fresh.execute('2')).reply.content.status).toBe('ok');
    await fresh.close();
  });

  it('replays output produced while disconnected to the same session only, noting what was dropped', async () => {
    const { connect, call, tokenA, kernel } = await withKernel({ outputBufferBytes: 64 * 1024 });
    const sessionId = randomUUID();
    const first = await connect('v1', sessionId);
    const request = first.message('shell', 'execute_request', { code: 'later-burst:200', silent: false });
    const started = next(first, (m) => m.header.msg_type === 'execute_input');
    first.send(request);
    await started;
    await first.close();
    await eventually(
      async () => (await call('GET', `/api/kernels/${kernel.id}`, tokenA)).json.execution_state === 'idle',
    );

    const replayed: JupyterMessage[] = [];
    const back = await connect('v1', sessionId);
    back.onMessage((m) => replayed.push(m));
    await eventually(() => replayed.some((m) => m.header.msg_type === 'execute_reply'));
    const streams = replayed.filter((m) => m.header.msg_type === 'stream');
    const note = streams.find((m) => String(m.content.text).includes('were dropped'));
    expect(note?.content.name).toBe('stderr');
    expect(note?.parent_header.msg_id).toBe(request.header.msg_id);
    const kept = streams.filter((m) => m !== note).map((m) => Number(String(m.content.text).slice(0, 8)));
    expect(kept[0]).toBe(0);
    expect(kept).toEqual(kept.map((_, i) => i));
    expect(kept.length).toBeGreaterThan(30);
    expect(kept.length).toBeLessThan(200);
    expect(replayed.at(-1)?.content.execution_state).toBe('idle');
    await back.close();

    const other = await connect('v1');
    const seen: JupyterMessage[] = [];
    other.onMessage((m) => seen.push(m));
    await other.execute('1');
    expect(seen.some((m) => m.header.msg_type === 'stream')).toBe(false);
    await other.close();
  });

  it('replays to an acknowledging session what it was sent and did not acknowledge, after what it says it stored (a web process killed mid-run)', async () => {
    const { url, tokenA } = await withKernel();
    const sessionId = randomUUID();
    const open = (lastStored: string | null) =>
      connectChannel({ url, token: tokenA, sessionId, ack: { lastStored } });
    const ids = (messages: JupyterMessage[]) => messages.map((m) => m.header.msg_id);
    // Kills the client as kill -9 would (no close handshake) once the gateway has read all it sent.
    const kill = async (channel: KernelChannel) => {
      await channel.request('shell', 'kernel_info_request', {});
      channel.socket.terminate();
      await channel.closed;
    };

    const first = await open(null);
    const got: JupyterMessage[] = [];
    first.onMessage((m) => got.push(m));
    const { iopub } = await first.execute('burst:10');
    const streams = iopub.filter((m) => m.header.msg_type === 'stream');
    expect(streams).toHaveLength(10);
    first.acknowledge(streams[3]?.header.msg_id as string);
    await kill(first);
    const sent = ids(got);

    // Everything after the acknowledged message comes back, in order, and nothing before it.
    const second = await open(null);
    const replayed: JupyterMessage[] = [];
    second.onMessage((m) => replayed.push(m));
    await eventually(
      () => replayed.length >= sent.length - sent.indexOf(streams[3]?.header.msg_id as string) - 1,
    );
    expect(ids(replayed)).toEqual(sent.slice(sent.indexOf(streams[3]?.header.msg_id as string) + 1));
    await kill(second);

    // The client stored up to the sixth stream but died before acknowledging it: replayed from after it.
    const third = await open(streams[5]?.header.msg_id as string);
    const again: JupyterMessage[] = [];
    third.onMessage((m) => again.push(m));
    const expected = sent.slice(sent.indexOf(streams[5]?.header.msg_id as string) + 1);
    await eventually(() => again.length >= expected.length);
    expect(ids(again).slice(0, expected.length)).toEqual(expected);
    expect(again.filter((m) => m.header.msg_type === 'stream').map((m) => m.content.text)).toEqual(
      streams.slice(6).map((m) => m.content.text),
    );
    await third.close();
  });

  it('replays nothing a client that never acknowledges already received (plain Jupyter behaviour)', async () => {
    const { connect } = await withKernel();
    const sessionId = randomUUID();
    const first = await connect('v1', sessionId);
    await first.execute('burst:3');
    await first.request('shell', 'kernel_info_request', {});
    first.socket.terminate();
    await first.closed;
    const back = await connect('v1', sessionId);
    const seen: JupyterMessage[] = [];
    back.onMessage((m) => seen.push(m));
    expect((await back.execute('print:after')).iopub.some((m) => m.content.text === 'after')).toBe(true);
    expect(seen.filter((m) => m.header.msg_type === 'stream').map((m) => m.content.text)).toEqual(['after']);
    await back.close();
  });

  it('interrupts through REST and through a control interrupt_request', async () => {
    const { connect, call, tokenA, kernel, driver } = await withKernel({ driver: new FakeDriver() });
    const channel = await connect('v1');
    const running = channel.execute('loop');
    await eventually(
      async () => (await call('GET', `/api/kernels/${kernel.id}`, tokenA)).json.execution_state === 'busy',
    );
    expect((await call('POST', `/api/kernels/${kernel.id}/interrupt`, tokenA)).status).toBe(204);
    expect((await running).reply.content.ename).toBe('KeyboardInterrupt');

    const again = channel.execute('loop');
    await eventually(
      async () => (await call('GET', `/api/kernels/${kernel.id}`, tokenA)).json.execution_state === 'busy',
    );
    const reply = await channel.request('control', 'interrupt_request', {});
    expect(reply.header.msg_type).toBe('interrupt_reply');
    expect((await again).iopub.some((m) => m.header.msg_type === 'error')).toBe(true);
    expect(driver.sandboxes[0]?.interrupts).toBe(2);
    await channel.close();
  });

  it('routes input_request to the asking client and its input_reply back', async () => {
    const { connect } = await withKernel();
    const asker = await connect('legacy');
    const bystander = await connect('v1');
    const bystanderStdin: JupyterMessage[] = [];
    bystander.onMessage((m) => m.channel === 'stdin' && bystanderStdin.push(m));
    const prompt = next(asker, (m) => m.header.msg_type === 'input_request');
    const result = asker.execute('input', { allowStdin: true });
    const request = await prompt;
    const reply = asker.message('stdin', 'input_reply', { value: 'Ada' });
    reply.parent_header = request.header;
    asker.send(reply);
    const { iopub } = await result;
    expect(iopub.find((m) => m.header.msg_type === 'stream')?.content.text).toBe('got Ada');
    expect(bystanderStdin).toEqual([]);
    await asker.close();
    await bystander.close();
  });

  it('reports a dead kernel with its reason, and restart brings it back', async () => {
    const { connect, call, tokenA, kernel } = await withKernel();
    const channel = await connect('v1');
    const died = next(channel, (m) => m.header.msg_type === 'status' && m.content.execution_state === 'dead');
    const error = next(channel, (m) => m.header.msg_type === 'error');
    channel.send(channel.message('shell', 'execute_request', { code: 'die' }));
    expect((await error).content).toMatchObject({
      ename: 'KernelDied',
      evalue: 'ran out of memory: limit 2048 MiB',
    });
    await died;
    const model = (await call('GET', `/api/kernels/${kernel.id}`, tokenA)).json;
    expect(model).toMatchObject({ execution_state: 'dead', reason: 'ran out of memory: limit 2048 MiB' });
    const refused = await channel.request('shell', 'kernel_info_request', {});
    expect(refused.content).toMatchObject({ status: 'error', ename: 'DeadKernel' });
    const restarted = await call('POST', `/api/kernels/${kernel.id}/restart`, tokenA);
    expect(restarted.json.execution_state).toBe('idle');
    expect(restarted.json.reason).toBeUndefined();
    expect((await channel.execute('3')).reply.content.status).toBe('ok');
    await channel.close();
  });

  it('replaces an older socket that reuses a session id, and shuts down on a control shutdown_request', async () => {
    const { connect, call, tokenA, kernel } = await withKernel();
    const sessionId = randomUUID();
    const old = await connect('v1', sessionId);
    const fresh = await connect('v1', sessionId);
    expect((await old.closed).reason).toMatch(/Replaced/);
    expect((await call('GET', `/api/kernels/${kernel.id}`, tokenA)).json.connections).toBe(1);
    const reply = await fresh.request('control', 'shutdown_request', { restart: false });
    expect(reply.content).toMatchObject({ status: 'ok', restart: false });
    expect((await fresh.closed).reason).toBe('Kernel shut down');
    expect((await call('GET', `/api/kernels/${kernel.id}`, tokenA)).status).toBe(404);
  });

  it('culls kernels idle past the configured time once nobody is connected', async () => {
    const { connect, call, tokenA, kernel } = await withKernel({ cullIdleMs: 150, cullIntervalMs: 30 });
    const channel = await connect('v1');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await call('GET', `/api/kernels/${kernel.id}`, tokenA)).status).toBe(200);
    await channel.close();
    await eventually(async () => (await call('GET', `/api/kernels/${kernel.id}`, tokenA)).status === 404);
  });

  it('selects the v1 subprotocol only when offered', async () => {
    const { url, tokenA } = await withKernel();
    const socket = new WebSocket(`${url}?token=${encodeURIComponent(tokenA)}`, ['other', V1_PROTOCOL]);
    await new Promise((resolve) => socket.once('open', resolve));
    expect(socket.protocol).toBe(V1_PROTOCOL);
    socket.close();
  });
});
