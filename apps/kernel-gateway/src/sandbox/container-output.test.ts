import { closeSync, writeSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ContainerOutput } from './container-output.ts';

// A real FIFO; the fd openForSandbox returns stands in for the sandbox that runsc hands it to.
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function output(maxBytes = 1024 * 1024) {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-container-output-'));
  dirs.push(dir);
  const log = join(dir, 'container.log');
  return { log, out: new ContainerOutput(join(dir, 'container.out'), log, maxBytes) };
}

describe('ContainerOutput', () => {
  it('masks env values, also split across writes, and reads on after the sandbox stopped and started again', async () => {
    const { log, out } = await output();
    out.learn({ TOKEN: 'tok-1234567890' });
    const first = await out.openForSandbox();
    writeSync(first, 'boot ok\nleaked tok-12');
    writeSync(first, '34567890 there\n');
    // The sandbox stops (a checkpoint): every writer is gone.
    closeSync(first);
    await out.settled();
    // Restored: a new sandbox process gets the FIFO again.
    const second = await out.openForSandbox();
    writeSync(second, 'after restore tok-1234567890\n');
    await out.settled();
    closeSync(second);
    out.close();
    expect(await readFile(log, 'utf8')).toBe('boot ok\nleaked ******** there\nafter restore ********\n');
  });

  it('starts the log over past its bound instead of filling the disk', async () => {
    const { log, out } = await output(64 * 1024);
    const fd = await out.openForSandbox();
    // The reader runs on this thread: write no more than the pipe holds before letting it read.
    for (let i = 0; i < 8; i++) {
      writeSync(fd, 'x'.repeat(16 * 1024));
      await out.settled();
    }
    closeSync(fd);
    out.close();
    const text = await readFile(log, 'utf8');
    expect(text.length).toBeLessThanOrEqual(64 * 1024 + 100);
    expect(text).toContain('[kiln] container output past 65536 bytes dropped');
  });
});
