import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLocalPlacement, discoverGpus } from '@kiln/scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../test/harness.ts';
import type { RunscKernelSandbox } from './kernel-sandbox.ts';
import { createRunscDriver, type RunscDriver } from './runsc-driver.ts';
import { probeRunsc } from './runsc-probe.ts';
import { ensureSandboxImage } from './sandbox-image.ts';
import { execute, removeTestState, request, TEST_STATE_DIR, testWorkspace } from './testing.ts';

// Real runsc, real image (built by scripts/build-sandbox-image.sh on first use, ~2-4 min).
let driver: RunscDriver;
let kernel: RunscKernelSandbox;
let kernelImageDir: string;
const workspaceId = testWorkspace();
const timings: Record<string, number> = {};

beforeAll(async () => {
  const imageDir = await ensureSandboxImage();
  kernelImageDir = imageDir;
  // The spare replaces a handed-out one at once here, so the restart below finds it ready.
  driver = createRunscDriver({
    stateDir: TEST_STATE_DIR,
    imageDir,
    warmPoolSize: 1,
    warmPoolRefillDelayMs: 0,
    features: (await probeRunsc()).features,
  });
  await driver.prepare();
  const started = performance.now();
  kernel = await driver.start({
    kernelId: 'kernel-basics',
    workspaceId,
    resources: { cpu: 1, memoryMiB: 1024 },
  });
  timings.startMs = performance.now() - started;
}, 900_000);

/** The CPU quota the host enforces on a sandbox, in cores (its v1 cgroup). */
function hostCpuQuota(containerId: string): number {
  return Number(readFileSync(`/sys/fs/cgroup/cpu/kiln/${containerId}/cpu.cfs_quota_us`, 'utf8')) / 100_000;
}

afterAll(async () => {
  await driver?.close();
  await removeTestState();
  console.log('sandbox timings', JSON.stringify(timings));
});

describe('a kernel in a runsc sandbox', { timeout: 60_000 }, () => {
  // How fast is measured by bench/kernels (against Jupyter Server, results in bench/results/kernels.md);
  // the timings logged here are for reading, not conditions: a loaded CI machine must not fail them.
  it('starts from the snapshot and answers kernel_info', async () => {
    expect(kernel.startedFrom).toBe('snapshot');
    const { reply } = await request(kernel, 'shell', 'kernel_info_request', {}).done;
    expect(reply.content).toMatchObject({
      status: 'ok',
      implementation: 'ipython',
      language_info: { name: 'python' },
    });
    expect(driver.capabilities()).toMatchObject({ checkpoint: true, gpu: false });
  });

  it('runs on the best platform the installed runsc offers (systrap over ptrace)', async () => {
    const expected = driver.features.platforms.includes('systrap') ? 'systrap' : 'ptrace';
    expect(driver.features.platform).toBe(expected);
    expect(driver.describe()).toContain(`on ${expected}`);
    // The sandbox process the host runs carries the platform it was started with.
    const state = JSON.parse(
      execFileSync('runsc', [`--root=${TEST_STATE_DIR}/runsc`, 'state', kernel.containerId]).toString(),
    ) as { pid: number };
    const sandboxArgs = readFileSync(`/proc/${state.pid}/cmdline`, 'utf8').split('\0');
    // runsc passes flags on only when they differ from its default (listed first in its help).
    const platformArg = sandboxArgs.find((arg) => arg.startsWith('--platform='));
    expect(platformArg ?? `--platform=${driver.features.platforms[0]}`).toBe(`--platform=${expected}`);
  });

  it("keeps the preloaded libraries' objects out of the garbage collector's way", async () => {
    const { stdout } = await execute(kernel, 'import gc\nprint(gc.get_freeze_count())');
    // numpy, pandas and matplotlib alone leave well over 100k objects; a full collection skips them.
    expect(Number(stdout)).toBeGreaterThan(100_000);
  });

  it('leaves debugpy out of the kernel (a smaller snapshot) but lets user code import it', async () => {
    const { stdout } = await execute(
      kernel,
      "import sys\nprint('debugpy' in sys.modules)\nimport debugpy\nprint(callable(debugpy.listen))",
    );
    expect(stdout).toBe('False\nTrue\n');
  });

  it('reaps processes orphaned by a shell command instead of leaving zombies', async () => {
    const { stdout } = await execute(
      kernel,
      `import os, subprocess, time
subprocess.run('sleep 0.2 & exit 0', shell=True, check=True)
time.sleep(1.5)
def state(pid):
    try:
        return next(line.split()[1] for line in open(f'/proc/{pid}/status') if line.startswith('State:'))
    except (OSError, StopIteration):
        return '?'
print(sum(state(pid) == 'Z' for pid in os.listdir('/proc') if pid.isdigit()))`,
    );
    expect(stdout).toBe('0\n');
  });

  it('executes 1+1 with the full message cycle', async () => {
    const { reply, iopub } = await execute(kernel, '1+1');
    expect(reply.content).toMatchObject({ status: 'ok', execution_count: expect.any(Number) });
    expect(iopub.map((m) => m.header.msg_type)).toEqual([
      'status',
      'execute_input',
      'execute_result',
      'status',
    ]);
    expect(iopub[2]?.content.data).toEqual({ 'text/plain': '2' });
    const samples: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t = performance.now();
      await execute(kernel, '1+1');
      samples.push(performance.now() - t);
    }
    samples.sort((a, b) => a - b);
    timings.roundTripP50Ms = samples[15] ?? Number.NaN;
  });

  it('streams 20 MB of stdout completely and in order', async () => {
    const t = performance.now();
    const { stdout, reply } = await execute(
      kernel,
      "import sys\nline = 'x' * 1023 + '\\n'\nfor i in range(20 * 1024): sys.stdout.write(line)\nprint('end')",
    );
    const seconds = (performance.now() - t) / 1000;
    expect(reply.content.status).toBe('ok');
    expect(stdout.length).toBe(20 * 1024 * 1024 + 4);
    expect(stdout.endsWith('end\n')).toBe(true);
    timings.streamMBps = stdout.length / 1e6 / seconds;
  });

  it('shows matplotlib figures inline as image/png', async () => {
    const { iopub } = await execute(
      kernel,
      'import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()',
    );
    const display = iopub.find((m) => m.header.msg_type === 'display_data');
    const data = (display?.content.data ?? {}) as Record<string, string>;
    const png = Buffer.from(String(data['image/png']), 'base64');
    expect(png.subarray(1, 4).toString()).toBe('PNG');
  });

  it('publishes comms with binary buffers, display updates and clear_output', async () => {
    const { iopub } = await execute(
      kernel,
      "from ipykernel.comm import Comm\nc = Comm(target_name='t', data={'a': 1})\nc.send({'b': 2}, buffers=[b'xyz'])\nh = display('one', display_id=True)\nh.update('two')\nfrom IPython.display import clear_output\nclear_output(wait=True)",
    );
    const types = iopub.map((m) => m.header.msg_type);
    expect(types).toEqual([
      'status',
      'execute_input',
      'comm_open',
      'comm_msg',
      'display_data',
      'update_display_data',
      'clear_output',
      'status',
    ]);
    expect(Buffer.from(iopub[3]?.buffers[0] ?? []).toString()).toBe('xyz');
    expect(iopub[5]?.content.transient).toEqual(iopub[4]?.content.transient);
  });

  it('reports errors with a traceback', async () => {
    const { reply, iopub } = await execute(kernel, '1/0');
    expect(reply.content).toMatchObject({ status: 'error', ename: 'ZeroDivisionError' });
    expect(iopub.find((m) => m.header.msg_type === 'error')?.content.traceback).toBeInstanceOf(Array);
  });

  it('asks for input on the stdin channel and completes code', async () => {
    const off = kernel.onMessage((m) => {
      if (m.channel !== 'stdin' || m.header.msg_type !== 'input_request') return;
      kernel.send({
        channel: 'stdin',
        header: { ...m.header, msg_id: `reply-${m.header.msg_id}`, msg_type: 'input_reply' },
        parent_header: m.header,
        metadata: {},
        content: { value: `answer to ${String(m.content.prompt)}` },
        buffers: [],
      });
    });
    const asked = request(kernel, 'shell', 'execute_request', {
      code: "print(input('name? '))",
      silent: false,
      allow_stdin: true,
      user_expressions: {},
    });
    expect((await asked.done).stdout).toBe('answer to name? \n');
    off();
    const { reply } = await request(kernel, 'shell', 'complete_request', {
      code: 'import numpy as np\nnp.arang',
      cursor_pos: 27,
    }).done;
    expect(reply.content.matches).toContain('arange');
  });

  it('interrupts `while True: pass`', async () => {
    const running = execute(kernel, 'while True: pass');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const t = performance.now();
    await kernel.interrupt();
    const { reply } = await running;
    timings.interruptMs = performance.now() - t;
    expect(reply.content).toMatchObject({ status: 'error', ename: 'KeyboardInterrupt' });
    expect(
      (await execute(kernel, '40+2')).iopub.some(
        (m) => m.content.data && JSON.stringify(m.content.data).includes('42'),
      ),
    ).toBe(true);
  });

  it('interrupts only the request a targeted interrupt names, and only while it runs', async () => {
    const run = (code: string) =>
      request(kernel, 'shell', 'execute_request', {
        code,
        silent: false,
        store_history: false,
        user_expressions: {},
        allow_stdin: false,
        stop_on_error: false,
      });
    // Two requests queued as an endpoint replica queues calls: the first runs, the second waits.
    const first = run('import time\nfor _ in range(40): time.sleep(0.05)\nprint("first done")');
    const second = run('import time\nfor _ in range(20): time.sleep(0.05)\nprint("second done")');
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Aimed at the queued one: the running one is not hit.
    await kernel.interrupt(second.msgId);
    const firstDone = await first.done;
    expect(firstDone.reply.content).toMatchObject({ status: 'ok' });
    expect(firstDone.stdout).toContain('first done');
    // Aimed at the first after it ended (a timed-out call's late interrupt): the second runs on.
    await kernel.interrupt(first.msgId);
    const secondDone = await second.done;
    expect(secondDone.reply.content).toMatchObject({ status: 'ok' });
    expect(secondDone.stdout).toContain('second done');
    // Aimed at the one running: it stops.
    const third = run('while True: pass');
    let answered = false;
    const thirdDone = third.done.finally(() => {
      answered = true;
    });
    while (!answered) {
      await kernel.interrupt(third.msgId);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect((await thirdDone).reply.content).toMatchObject({ status: 'error', ename: 'KeyboardInterrupt' });
  });

  it('keeps variables across hibernate/resume and frees the sandbox meanwhile', async () => {
    await execute(kernel, 'kept = 6 * 7');
    const containerId = kernel.containerId;
    let t = performance.now();
    await kernel.hibernate();
    timings.hibernateMs = performance.now() - t;
    // While hibernated no sandbox runs for this kernel: runsc no longer lists its container.
    const listed = execFileSync('runsc', [`--root=${TEST_STATE_DIR}/runsc`, 'list']).toString();
    expect(listed).not.toContain(containerId);
    t = performance.now();
    await kernel.resume();
    timings.resumeMs = performance.now() - t;
    expect(kernel.containerId).toBe(containerId);
    expect((await execute(kernel, 'print(kept)')).stdout).toBe('42\n');
    // The restore ran without a quota (it decompresses on every core); the kernel's own is back.
    expect(hostCpuQuota(containerId)).toBe(1);
    // Straight back to sleep while the last wake still deletes its image from the same place: the new
    // image must survive that, and once awake again no image is left, in clear or sealed.
    await kernel.hibernate();
    await kernel.resume();
    expect((await execute(kernel, 'print(kept)')).stdout).toBe('42\n');
    const runDir = join(TEST_STATE_DIR, 'run', containerId);
    await eventually(
      () =>
        !existsSync(join(runDir, 'hibernate')) &&
        !readdirSync('/dev/shm/kiln-hibernate').some((name) => name.startsWith(containerId)),
      30_000,
    );
    // Two checkpoints and two restores of a ~100 MB image: 17-19 s and 10-24 s each at load 40 on 2 cores.
  }, 300_000);

  it('restarts into a fresh interpreter with the same /workspace', async () => {
    await execute(kernel, "open('/workspace/note.txt', 'w').write('kept on disk')\nforgotten = 1");
    const t = performance.now();
    await kernel.restart();
    timings.restartMs = performance.now() - t;
    expect(kernel.startedFrom).toBe('pool');
    const { stdout, reply } = await execute(
      kernel,
      "print(open('/workspace/note.txt').read(), 'forgotten' in globals(), len(In))",
    );
    // The spare's warm-up kernel_info (and the template's) left no trace: this is the first cell.
    expect(stdout).toBe('kept on disk False 2\n');
    expect(reply.content.execution_count).toBe(1);
  });

  it('opens a terminal inside the sandbox', async () => {
    const terminal = kernel.openTerminal({ cols: 80, rows: 24 });
    let output = '';
    terminal.onData((data) => {
      output += data;
    });
    const exited = new Promise<number>((resolve) => terminal.onExit(resolve));
    terminal.write(
      'echo hello-$((6*7)); cat /workspace/note.txt; ls -d /opt/kiln/agent; cat /work/main/package.json; stty size; exit 0\r',
    );
    expect(await exited).toBe(0);
    expect(output).toContain('hello-42');
    expect(output).toContain('kept on disk');
    expect(output).toContain('/opt/kiln/agent\r\n');
    expect(output).toMatch(/cat: \/work\/main\/package.json: No such file or directory/);
    // stty only answers on a real terminal.
    expect(output).toContain('24 80');
  });

  it('keeps the kernel sandboxes a dead gateway process left for re-adoption, and deletes those nobody takes', async () => {
    const orphan = await driver.start({
      kernelId: 'orphan',
      workspaceId,
      resources: { cpu: 1, memoryMiB: 512 },
    });
    // Pretend the process that started it crashed: its owner pid no longer exists.
    writeFileSync(join(TEST_STATE_DIR, 'run', orphan.containerId, 'owner.pid'), '999999999');
    const list = () => execFileSync('runsc', [`--root=${TEST_STATE_DIR}/runsc`, 'list']).toString();
    expect(list()).toContain(orphan.containerId);
    const successor = createRunscDriver({
      stateDir: TEST_STATE_DIR,
      imageDir: kernelImageDir,
      features: driver.features,
    });
    await successor.prepare();
    // It hosted a kernel, so it waits for the registry to take it back (kernels.adopt())...
    expect(list()).toContain(orphan.containerId);
    // ...and what nobody re-adopted is deleted; a live process's sandboxes are never touched.
    await successor.reapUnadopted();
    expect(list()).not.toContain(orphan.containerId);
    expect(list()).toContain(kernel.containerId);
    await successor.close();
  });

  it('refuses GPU kernels with the reason', async () => {
    // No GPU here: an old runsc lacks nvproxy, a current one has no inventory to place on.
    const reason = driver.features.nvproxy ? /no GPU inventory configured/ : /no GPU passthrough \(nvproxy\)/;
    await expect(
      driver.start({ kernelId: 'gpu', workspaceId, resources: { cpu: 1, memoryMiB: 1024, gpu: 'H100' } }),
    ).rejects.toThrow(reason);
    await expect(
      driver.start({ kernelId: 'gpu2', workspaceId, resources: { cpu: 1, memoryMiB: 1024, gpu: 'V100' } }),
    ).rejects.toMatchObject({ code: 'GPU_TYPE_UNKNOWN' });
    // A declared (development) inventory has no devices behind it: refused, saying so, GPU not held.
    const placement = createLocalPlacement({
      inventory: await discoverGpus({ declared: [{ type: 'H100', count: 1 }] }),
    });
    const declared = createRunscDriver({
      stateDir: TEST_STATE_DIR,
      imageDir: kernelImageDir,
      placement,
      features: driver.features,
    });
    try {
      const refusal = driver.features.nvproxy ? /GPU inventory here is declared/ : /no GPU passthrough/;
      await expect(
        declared.start({
          kernelId: 'gpu3',
          workspaceId,
          resources: { cpu: 1, memoryMiB: 1024, gpu: 'H100' },
        }),
      ).rejects.toThrow(refusal);
      expect(placement.free()).toHaveLength(1);
      expect(declared.capabilities().gpu).toBe(false);
    } finally {
      await declared.close();
    }
  });

  it('runs user code under the CPU quota it asked for, not the start-up boost', async () => {
    // Taken last: this size's start evicts the pool's spare for the kernel above.
    expect(hostCpuQuota(kernel.containerId)).toBe(1);
    const small = await driver.start({
      kernelId: 'quarter-core',
      workspaceId,
      resources: { cpu: 0.25, memoryMiB: 512 },
    });
    try {
      expect(small.startedFrom).toBe('snapshot');
      expect(hostCpuQuota(small.containerId)).toBe(0.25);
      expect((await execute(small, 'print(6 * 7)')).stdout).toBe('42\n');
    } finally {
      await small.shutdown();
    }
  });
});
