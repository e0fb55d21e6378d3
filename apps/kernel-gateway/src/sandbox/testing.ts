import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunscKernelSandbox } from './kernel-sandbox.ts';
import type { JupyterMessage } from './types.ts';

/**
 * This test file's own state dir (runsc root, snapshot, volumes): a fixed name would be shared by
 * every clone and run on the machine, so one run could reap or overwrite another's sandboxes.
 */
export const TEST_STATE_DIR = mkdtempSync(join(tmpdir(), 'kiln-sandbox-test-'));

/** A fresh workspace id, so tests never share a /workspace volume by accident. */
export function testWorkspace(): string {
  const id = `test-${randomUUID().slice(0, 8)}`;
  created.push(id);
  return id;
}

const created: string[] = [];

/** Deletes the volumes (quota images included) of the workspaces this test file made up. */
export async function removeTestVolumes(): Promise<void> {
  await Promise.all(
    created.map(async (id) => {
      const dir = join(TEST_STATE_DIR, 'volumes', id);
      // Unmounted by the driver's close unless a sandbox still held it; then it goes here.
      await new Promise((resolve) => execFile('umount', [dir], resolve));
      await rm(dir, { recursive: true, force: true });
      await rm(`${dir}.ext4`, { force: true });
    }),
  );
}

/**
 * Deletes this test file's state dir, volumes included; call it once every driver using it is closed.
 * Quota volumes are loop mounts, which must be unmounted before their directory can go.
 */
export async function removeTestState(): Promise<void> {
  await removeTestVolumes();
  await rm(TEST_STATE_DIR, { recursive: true, force: true });
}

export interface ExecuteResult {
  reply: JupyterMessage;
  iopub: JupyterMessage[];
  stdout: string;
}

/** A minimal Jupyter client over a KernelSandbox, as the gateway would drive it. */
export function request(
  kernel: RunscKernelSandbox,
  channel: JupyterMessage['channel'],
  msgType: string,
  content: Record<string, unknown>,
) {
  const msgId = randomUUID();
  const message: JupyterMessage = {
    channel,
    header: {
      msg_id: msgId,
      msg_type: msgType,
      session: 'test-session',
      username: 'test',
      date: new Date().toISOString(),
      version: '5.3',
    },
    parent_header: {},
    metadata: {},
    content,
    buffers: [],
  };
  const iopub: JupyterMessage[] = [];
  const done = new Promise<ExecuteResult>((resolve) => {
    let reply: JupyterMessage | undefined;
    let idle = false;
    const finish = () => {
      if (!reply || !idle) return;
      off();
      const stdout = iopub
        .filter((m) => m.header.msg_type === 'stream' && m.content.name === 'stdout')
        .map((m) => String(m.content.text))
        .join('');
      resolve({ reply, iopub, stdout });
    };
    const off = kernel.onMessage((m) => {
      if ((m.parent_header as { msg_id?: string }).msg_id !== msgId) return;
      if (m.channel === 'iopub') {
        iopub.push(m);
        if (m.header.msg_type === 'status' && m.content.execution_state === 'idle') idle = true;
      } else if (m.channel === channel) reply = m;
      finish();
    });
  });
  kernel.send(message);
  return { msgId, done };
}

/** Runs code and resolves with the reply and every iopub message of that request. */
export function execute(kernel: RunscKernelSandbox, code: string): Promise<ExecuteResult> {
  return request(kernel, 'shell', 'execute_request', {
    code,
    silent: false,
    store_history: true,
    user_expressions: {},
    allow_stdin: false,
    stop_on_error: true,
  }).done;
}

/**
 * Writes `path` in 1 MiB chunks, `mib` at most, until the OS refuses: how many went in and the error
 * ("28 No space left on device"; "None" if all did).
 */
export async function fillUntilFull(
  kernel: RunscKernelSandbox,
  path: string,
  mib: number,
): Promise<{ written: number; error: string }> {
  const { stdout } = await execute(
    kernel,
    `
import os
written, error = 0, None
try:
    with open(${JSON.stringify(path)}, 'wb') as f:
        for _ in range(${mib}):
            f.write(b'x' * 1048576)
            f.flush()
            os.fsync(f.fileno())
            written += 1
except OSError as e:
    error = f'{e.errno} {e.strerror}'
print(written, error)`,
  );
  const [written, ...error] = stdout.trim().split(' ');
  return { written: Number(written), error: error.join(' ') };
}
