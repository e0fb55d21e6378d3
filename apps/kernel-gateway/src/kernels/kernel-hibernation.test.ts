import { connectChannel } from '@kiln/kernel-protocol/client';
import { describe, expect, it } from 'vitest';
import { FakeDriver, FakeSandbox } from '../../test/fake-driver.ts';
import { eventually, startGateway } from '../../test/harness.ts';
import type { JupyterMessage, KernelSandbox, KernelSandboxOptions } from '../sandbox/types.ts';

const HOUR = 3_600_000;

/** A fake sandbox that sleeps like the runsc one: it must never be sent anything while asleep. */
class SleepyFakeSandbox extends FakeSandbox {
  asleep = false;
  hibernations = 0;
  resumes = 0;
  sentWhileAsleep = 0;
  failResume: Error | null = null;

  override send(message: JupyterMessage): void {
    if (this.asleep) this.sentWhileAsleep += 1;
    super.send(message);
  }

  override async hibernate() {
    this.hibernations += 1;
    await new Promise((resolve) => setTimeout(resolve, 20));
    this.asleep = true;
  }

  override async resume() {
    this.resumes += 1;
    // Restoring takes a while in runsc: messages arriving meanwhile must wait, in order.
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (this.failResume) throw this.failResume;
    this.asleep = false;
  }
}

class SleepyDriver extends FakeDriver {
  override async start(options: KernelSandboxOptions): Promise<KernelSandbox> {
    const sandbox = new SleepyFakeSandbox(options);
    this.sandboxes.push(sandbox);
    return sandbox;
  }
}

// The sweep timer is parked (one hour) and driven by hand with a clock moved past the idle time.
async function withSleepyKernel(hibernateIdleMs = 600_000, cullIdleMs = 0, cullConnected = false) {
  const harness = await startGateway({
    driver: new SleepyDriver(),
    hibernateIdleMs,
    cullIdleMs,
    cullIntervalMs: HOUR,
    cullConnected,
  });
  const model = (await harness.call('POST', '/api/kernels', harness.tokenA, {})).json;
  const sandbox = harness.driver.sandboxes[0] as SleepyFakeSandbox;
  const url = `${harness.wsUrl}/api/kernels/${model.id}/channels`;
  const connect = () => connectChannel({ url, token: harness.tokenA });
  const state = async () => (await harness.call('GET', `/api/kernels/${model.id}`, harness.tokenA)).json;
  const later = (ms = hibernateIdleMs + 1) => harness.gateway.kernels.sweep(Date.now() + ms);
  const asleep = async () => {
    await later();
    await eventually(async () => (await state()).hibernation === 'hibernated');
  };
  return { ...harness, id: model.id as string, sandbox, connect, state, later, asleep };
}

describe('kernel hibernation', () => {
  it('hibernates an idle kernel and wakes it for the next cell, holding messages sent meanwhile', async () => {
    const { connect, sandbox, state, later, asleep } = await withSleepyKernel();
    const channel = await connect();
    await channel.execute('x = 41');
    await later(1000);
    expect((await state()).execution_state).toBe('idle');

    await asleep();
    expect(await state()).toMatchObject({ execution_state: 'hibernated', hibernation: 'hibernated' });
    expect(sandbox.asleep).toBe(true);

    // Two cells sent back to back while the kernel is being restored both run, in order.
    const [first, second] = await Promise.all([channel.execute('first'), channel.execute('second')]);
    expect(first.reply.content).toMatchObject({ status: 'ok', execution_count: 2 });
    expect(second.reply.content).toMatchObject({ status: 'ok', execution_count: 3 });
    expect(sandbox.resumes).toBe(1);
    expect(sandbox.sentWhileAsleep).toBe(0);
    expect(await state()).toMatchObject({ execution_state: 'idle', hibernation: 'awake' });
    await channel.close();
  });

  it('never hibernates while a cell runs or output is still coming', async () => {
    const { connect, sandbox, call, tokenA, id, later } = await withSleepyKernel();
    const channel = await connect();
    const running = channel.execute('loop');
    await eventually(() => sandbox.sent.some((m) => m.content.code === 'loop'));
    await later(10 * HOUR);
    const streaming = channel.execute('later-burst:3');
    await later(10 * HOUR);
    expect(sandbox.hibernations).toBe(0);

    expect((await call('POST', `/api/kernels/${id}/interrupt`, tokenA)).status).toBe(204);
    expect((await running).reply.content.ename).toBe('KeyboardInterrupt');
    const burst = await streaming;
    expect(burst.iopub.filter((m) => m.header.msg_type === 'stream')).toHaveLength(3);
    await later();
    await eventually(() => sandbox.hibernations === 1);
    await channel.close();
  });

  it('keeps a kernel running a quiet execute (an endpoint call, no busy status) from hibernation and culling', async () => {
    const { connect, sandbox, state, later, call, tokenA, id } = await withSleepyKernel(600_000, HOUR, true);
    const channel = await connect();
    const request = channel.message('shell', 'execute_request', { code: 'loop', silent: false });
    request.metadata = { kiln_quiet: true };
    const replied = new Promise<JupyterMessage>((resolve) =>
      channel.onMessage(
        (m) =>
          m.parent_header.msg_id === request.header.msg_id &&
          m.header.msg_type === 'execute_reply' &&
          resolve(m),
      ),
    );
    channel.send(request);
    await eventually(() => sandbox.sent.some((m) => m.content.code === 'loop'));
    // The agent sends no busy for it: the kernel reads idle, yet a call is running.
    expect((await state()).execution_state).toBe('idle');
    await later(10 * HOUR);
    expect(sandbox.hibernations).toBe(0);
    expect(sandbox.shutdowns).toBe(0);
    expect((await call('GET', `/api/kernels/${id}`, tokenA)).status).toBe(200);

    // Once it is answered, the idle clock runs again: hibernated after the idle time, culled after the cull time.
    expect((await call('POST', `/api/kernels/${id}/interrupt`, tokenA)).status).toBe(204);
    expect((await replied).content.ename).toBe('KeyboardInterrupt');
    await later();
    await eventually(() => sandbox.hibernations === 1);
    await later(HOUR + 1);
    expect((await call('GET', `/api/kernels/${id}`, tokenA)).status).toBe(404);
    await channel.close();
  });

  it('counts sending a quiet execute as activity: the idle time runs from it', async () => {
    const { connect, sandbox, gateway, workspaceA, id } = await withSleepyKernel(600_000);
    const channel = await connect();
    const kernel = gateway.kernels.get(workspaceA, id);
    const before = kernel.lastActivity.getTime();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const request = channel.message('shell', 'execute_request', { code: 'x', silent: false });
    request.metadata = { kiln_quiet: true };
    const replied = new Promise<void>((resolve) =>
      channel.onMessage(
        (m) =>
          m.parent_header.msg_id === request.header.msg_id &&
          m.header.msg_type === 'execute_reply' &&
          resolve(),
      ),
    );
    channel.send(request);
    await replied;
    expect(kernel.lastActivity.getTime()).toBeGreaterThan(before);
    // Idle for less than the hibernation time counted from that call: still awake.
    expect(kernel.canHibernate(600_000, kernel.lastActivity.getTime() + 599_000)).toBe(false);
    expect(kernel.canHibernate(600_000, kernel.lastActivity.getTime() + 600_000)).toBe(true);
    expect(sandbox.hibernations).toBe(0);
    await channel.close();
  });

  it('wakes on a REST interrupt, a REST restart and a new channels connection', async () => {
    const { sandbox, call, tokenA, id, asleep, connect, state } = await withSleepyKernel();
    await asleep();
    expect((await call('POST', `/api/kernels/${id}/interrupt`, tokenA)).status).toBe(204);
    expect(sandbox.interrupts).toBe(1);
    expect((await state()).execution_state).toBe('idle');

    await asleep();
    const restarted = await call('POST', `/api/kernels/${id}/restart`, tokenA);
    expect(restarted.json).toMatchObject({ execution_state: 'idle', hibernation: 'awake' });
    expect(sandbox.restarts).toBe(1);

    await asleep();
    const channel = await connect();
    await eventually(async () => (await state()).hibernation === 'awake');
    expect(sandbox.resumes).toBe(3);
    expect(sandbox.sentWhileAsleep).toBe(0);
    await channel.close();
  });

  it('opens a terminal on a hibernated kernel once it wakes, and stays awake while it is open', async () => {
    const { gateway, workspaceA, id, sandbox, asleep, later } = await withSleepyKernel();
    await asleep();
    const terminal = gateway.kernels.get(workspaceA, id).openTerminal(80, 24);
    const output: string[] = [];
    terminal.onData((data) => output.push(data));
    terminal.write('typed while asleep');
    await eventually(() => output.includes('echo:typed while asleep'));
    expect(sandbox.resumes).toBe(1);

    await later(10 * HOUR);
    expect(sandbox.hibernations).toBe(1);
    terminal.kill();
    await later();
    await eventually(() => sandbox.hibernations === 2);
  });

  it('still shuts a hibernated kernel down after the much longer cull time', async () => {
    const { call, tokenA, id, sandbox, asleep, later } = await withSleepyKernel(1000, HOUR);
    await asleep();
    expect((await call('GET', `/api/kernels/${id}`, tokenA)).status).toBe(200);
    await later(HOUR + 1);
    expect((await call('GET', `/api/kernels/${id}`, tokenA)).status).toBe(404);
    expect(sandbox.shutdowns).toBe(1);
    expect(sandbox.resumes).toBe(0);
  });

  it('shuts down a kernel caught mid-checkpoint without waking it for the messages it was holding', async () => {
    const { gateway, workspaceA, id, sandbox, call, tokenA } = await withSleepyKernel();
    const kernel = gateway.kernels.get(workspaceA, id);
    const sleeping = kernel.hibernate();
    const unanswered = kernel.request('shell', 'kernel_info_request', {}, 500);
    expect((await call('DELETE', `/api/kernels/${id}`, tokenA)).status).toBe(204);
    await sleeping;
    await expect(unanswered).rejects.toThrow(/no reply/);
    expect(sandbox.shutdowns).toBe(1);
    expect(sandbox.resumes).toBe(0);
    expect(sandbox.sentWhileAsleep).toBe(0);
  });

  it('reports the kernel dead, with the reason, when it cannot be restored', async () => {
    const { connect, sandbox, state, asleep } = await withSleepyKernel();
    const channel = await connect();
    await asleep();
    sandbox.failResume = new Error('checkpoint image is corrupt');
    const died = new Promise<JupyterMessage>((resolve) =>
      channel.onMessage((m) => m.header.msg_type === 'error' && resolve(m)),
    );
    channel.send(channel.message('shell', 'execute_request', { code: 'x', silent: false }));
    expect((await died).content.evalue).toMatch(
      /Could not wake from hibernation: checkpoint image is corrupt/,
    );
    expect(await state()).toMatchObject({ execution_state: 'dead' });
    expect((await state()).reason).toMatch(/checkpoint image is corrupt/);
    await channel.close();
  });

  it('is off when the idle time is 0', async () => {
    const { sandbox, later, state } = await withSleepyKernel(0, 0);
    await later(100 * HOUR);
    expect(sandbox.hibernations).toBe(0);
    expect((await state()).execution_state).toBe('idle');
  });
});
