import {
  type Kernel,
  KernelManager,
  type KernelMessage,
  KernelSpecManager,
  ServerConnection,
  SessionManager,
} from '@jupyterlab/services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startRunscGateway } from '../../test/runsc-gateway.ts';

// Unmodified @jupyterlab/services against the gateway with real runsc kernels.
let gateway: Awaited<ReturnType<typeof startRunscGateway>>;
let settings: ServerConnection.ISettings;
const complaints: string[] = [];
const originalError = console.error;
const originalWarn = console.warn;

beforeAll(async () => {
  gateway = await startRunscGateway();
  settings = ServerConnection.makeSettings({
    baseUrl: `${gateway.url}/`,
    wsUrl: `${gateway.wsUrl}/`,
    token: gateway.tokenA,
    appendToken: true,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    fetch: fetch as never,
  });
  const record = (...args: unknown[]) => complaints.push(args.map(String).join(' '));
  console.error = record;
  console.warn = record;
}, 900_000);

afterAll(async () => {
  console.error = originalError;
  console.warn = originalWarn;
  await gateway?.close();
});

// biome-ignore lint/suspicious/noExplicitAny: any execute/shell future
function waitForIOPub(future: Kernel.IShellFuture<any, any>, type: string) {
  return new Promise<KernelMessage.IIOPubMessage>((resolve) => {
    future.onIOPub = (message) => {
      if (message.header.msg_type === type) resolve(message);
    };
  });
}

describe('@jupyterlab/services against the gateway', () => {
  it('lists kernel specs', async () => {
    const specs = new KernelSpecManager({ serverSettings: settings });
    await specs.ready;
    expect(specs.specs?.default).toBe('python3');
    expect(specs.specs?.kernelspecs.python3?.language).toBe('python');
    specs.dispose();
  });

  it('starts, lists, executes, interrupts, restarts and shuts down a kernel', async () => {
    const kernels = new KernelManager({ serverSettings: settings });
    await kernels.ready;
    const kernel = await kernels.startNew({ name: 'python3' });
    const info = await kernel.info;
    expect(info.language_info.name).toBe('python');

    const outputs: string[] = [];
    const future = kernel.requestExecute({ code: 'x = 6 * 7\nprint(x)' });
    future.onIOPub = (message) => {
      if (message.header.msg_type === 'stream') outputs.push((message.content as { text: string }).text);
    };
    expect((await future.done).content.status).toBe('ok');
    expect(outputs.join('')).toBe('42\n');

    await kernels.refreshRunning();
    expect([...kernels.running()].map((model) => model.id)).toContain(kernel.id);

    const loop = kernel.requestExecute({ code: 'while True: pass' });
    await waitForIOPub(loop, 'execute_input');
    await kernel.interrupt();
    const interrupted = await loop.done;
    expect(interrupted.content.status).toBe('error');
    expect((interrupted.content as { ename?: string }).ename).toBe('KeyboardInterrupt');

    await kernel.restart();
    const after = kernel.requestExecute({ code: 'x' });
    const reply = await after.done;
    expect((reply.content as { ename?: string }).ename).toBe('NameError');

    await kernel.shutdown();
    await kernels.refreshRunning();
    expect([...kernels.running()].map((model) => model.id)).not.toContain(kernel.id);
    kernels.dispose();
    expect(complaints.filter((line) => /valid|error/i.test(line))).toEqual([]);
  }, 120_000);

  it('runs a notebook session and shuts it down', async () => {
    const kernels = new KernelManager({ serverSettings: settings });
    const sessions = new SessionManager({ kernelManager: kernels, serverSettings: settings });
    await sessions.ready;
    const session = await sessions.startNew({
      path: 'analysis.ipynb',
      name: 'analysis.ipynb',
      type: 'notebook',
      kernel: { name: 'python3' },
    });
    const future = session.kernel?.requestExecute({ code: '"ünïcødé " * 2' });
    const result = waitForIOPub(future as Kernel.IShellFuture, 'execute_result');
    await future?.done;
    expect(((await result).content as { data: Record<string, string> }).data['text/plain']).toBe(
      "'ünïcødé ünïcødé '",
    );
    await sessions.refreshRunning();
    expect([...sessions.running()].map((model) => model.path)).toEqual(['analysis.ipynb']);
    await session.shutdown();
    await sessions.refreshRunning();
    expect([...sessions.running()]).toEqual([]);
    sessions.dispose();
    kernels.dispose();
    expect(complaints.filter((line) => /valid|error/i.test(line))).toEqual([]);
  }, 120_000);
});
