import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunscKernelSandbox } from './kernel-sandbox.ts';
import { createRunscDriver, type RunscDriver } from './runsc-driver.ts';
import { probeRunsc } from './runsc-probe.ts';
import { ensureSandboxImage } from './sandbox-image.ts';
import { execute, removeTestState, TEST_STATE_DIR, testWorkspace } from './testing.ts';
import type { JupyterMessage } from './types.ts';

// Real runsc: the agent sends a cell's stdout as messages of at most 64 Ki characters (kiln_relay.py),
// flushing every 256 Ki characters. Whatever the cut points, what a user sees is what the code wrote.
const MESSAGE_CHARS = 64 * 1024;
const FLUSH_CHARS = 256 * 1024;
const VALUE = `kiln-stream-${Math.random().toString(36).slice(2, 14)}`;
let driver: RunscDriver;
let kernel: RunscKernelSandbox;

beforeAll(async () => {
  const imageDir = await ensureSandboxImage();
  driver = createRunscDriver({
    stateDir: TEST_STATE_DIR,
    imageDir,
    warmPoolSize: 0,
    snapshots: false,
    features: (await probeRunsc()).features,
  });
  await driver.prepare();
  kernel = await driver.start({
    kernelId: 'stream-output',
    workspaceId: testWorkspace(),
    resources: { cpu: 1, memoryMiB: 1024 },
    env: { KILN_STREAM_VALUE: VALUE },
  });
}, 900_000);

afterAll(async () => {
  await driver?.close();
  await removeTestState();
});

const streamTexts = (iopub: JupyterMessage[], name = 'stdout') =>
  iopub
    .filter((m) => m.header.msg_type === 'stream' && m.content.name === name)
    .map((m) => String(m.content.text));

/** Characters as Python counts them (code points), not UTF-16 units. */
const chars = (text: string) => [...text].length;

describe("a cell's stdout", { timeout: 300_000 }, () => {
  it('arrives complete and in order when it is larger than one message, in messages of at most 64 Ki characters', async () => {
    const { reply, iopub, stdout } = await execute(
      kernel,
      `import sys
for i in range(30000):
    sys.stdout.write(f"{i:08d} " + "é✓😀" * 10 + "\\n")
sys.stdout.write("".join(f"<{i}>" for i in range(200000)))
print("end")`,
    );
    expect(reply.content.status).toBe('ok');
    let expected = '';
    for (let i = 0; i < 30000; i++) expected += `${String(i).padStart(8, '0')} ${'é✓😀'.repeat(10)}\n`;
    for (let i = 0; i < 200000; i++) expected += `<${i}>`;
    expected += 'end\n';
    expect(stdout.length).toBe(expected.length);
    expect(stdout === expected).toBe(true);
    const texts = streamTexts(iopub);
    expect(texts.length).toBeGreaterThan(Math.floor(chars(expected) / MESSAGE_CHARS));
    for (const text of texts) expect(chars(text)).toBeLessThanOrEqual(MESSAGE_CHARS);
  });

  it('carries a value cut by a message or a flush boundary whole once the pieces are joined', async () => {
    // The web app masks secret values after joining a cell's stream pieces (execution's
    // StreamRedaction); the pieces here must really cut the value for that to be what is tested.
    // The first write of a cell starts a flush, so its first message ends 10 characters into the value;
    // the next writes fill the flush to exactly 256 Ki characters in the middle of the value (unless
    // the 50 ms flusher sent part of it earlier: either way nothing may be lost or reordered).
    const first = `${'x'.repeat(MESSAGE_CHARS - 10)}${VALUE} in a message\n`;
    const { stdout, iopub } = await execute(
      kernel,
      `import os, sys
v = os.environ["KILN_STREAM_VALUE"]
first = "x" * ${MESSAGE_CHARS - 10} + v + " in a message\\n"
for piece in (first, "y" * (${FLUSH_CHARS} - len(first) - 9), v[:9], v[9:] + " across a flush\\n"):
    sys.stdout.write(piece)`,
    );
    expect(stdout).toBe(`${first}${'y'.repeat(FLUSH_CHARS - first.length - 9)}${VALUE} across a flush\n`);
    const texts = streamTexts(iopub);
    expect(texts[0]).toBe(`${'x'.repeat(MESSAGE_CHARS - 10)}${VALUE.slice(0, 10)}`);
    expect(texts[1]?.startsWith(`${VALUE.slice(10)} in a message\n`)).toBe(true);
  });

  it('survives a flood from Python and from a subprocess without losing a byte, and answers after it', async () => {
    const { reply, iopub } = await execute(
      kernel,
      `import subprocess, sys
line = "z" * 1023 + "\\n"
for _ in range(40 * 1024):
    sys.stdout.write(line)
sys.stdout.flush()
subprocess.run(["sh", "-c", "head -c 8388608 /dev/zero | tr '\\\\0' 'q'"])
print(" done")`,
    );
    expect(reply.content.status).toBe('ok');
    const stdout = streamTexts(iopub).join('');
    expect(stdout.length).toBe(40 * 1024 * 1024 + 8 * 1024 * 1024 + 6);
    const expected = createHash('sha256')
      .update(
        'z'
          .repeat(1023)
          .concat('\n')
          .repeat(40 * 1024),
      )
      .update('q'.repeat(8 * 1024 * 1024))
      .update(' done\n')
      .digest('hex');
    expect(createHash('sha256').update(stdout).digest('hex')).toBe(expected);
    for (const text of streamTexts(iopub)) expect(chars(text)).toBeLessThanOrEqual(MESSAGE_CHARS);
    const after = await execute(kernel, '1+1');
    expect(after.reply.content.status).toBe('ok');
    const result = after.iopub.find((m) => m.header.msg_type === 'execute_result');
    expect(result?.content.data).toEqual(expect.objectContaining({ 'text/plain': '2' }));
  });
});
