import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  readFileSync,
  renameSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeRunsc } from './runsc-probe.ts';

// The installed runsc, behind a wrapper that counts its calls: the wrapper is "the binary" the cache
// is keyed on, so changing it stands for an upgrade of runsc.
const installed = spawnSync('sh', ['-c', 'command -v runsc'], { encoding: 'utf8' }).stdout.trim();
let dir: string;
let binary: string;
let calls: string;
let cacheFile: string;

const wrapper = (note: string) => `#!/bin/sh\n# ${note}\necho "$*" >> "${calls}"\nexec ${installed} "$@"\n`;
const callCount = () => {
  try {
    return readFileSync(calls, 'utf8').split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-runsc-probe-'));
  binary = join(dir, 'runsc');
  calls = join(dir, 'calls');
  cacheFile = join(dir, 'state', 'runsc-features.json');
  writeFileSync(binary, wrapper('first'));
  chmodSync(binary, 0o755);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the cached runsc probe', { timeout: 60_000 }, () => {
  it('asks runsc once, then answers from the cache while the binary is unchanged', async () => {
    const first = await probeRunsc({ runscPath: binary, cacheFile });
    expect(first.cached).toBe(false);
    expect(callCount()).toBeGreaterThanOrEqual(5);
    // Same answer as asking the installed runsc itself, with no wrapper and no cache.
    expect(first.features).toEqual((await probeRunsc({ runscPath: installed })).features);
    const asked = callCount();
    const second = await probeRunsc({ runscPath: binary, cacheFile });
    expect(second.cached).toBe(true);
    expect(callCount()).toBe(asked);
    expect(second.features).toEqual(first.features);
  });

  it('applies a requested platform to a cached probe, and refuses one runsc lacks', async () => {
    const asked = callCount();
    const ptrace = await probeRunsc({ runscPath: binary, cacheFile, platform: 'ptrace' });
    expect(ptrace.cached).toBe(true);
    expect(ptrace.features.platform).toBe('ptrace');
    await expect(probeRunsc({ runscPath: binary, cacheFile, platform: 'no-such' })).rejects.toThrow(
      /has no platform "no-such"/,
    );
    expect(callCount()).toBe(asked);
  });

  it('asks runsc again when the binary changes (new contents, or a new file with the same size and time)', async () => {
    appendFileSync(binary, '# upgraded\n');
    let asked = callCount();
    const upgraded = await probeRunsc({ runscPath: binary, cacheFile });
    expect(upgraded.cached).toBe(false);
    expect(callCount()).toBeGreaterThan(asked);
    expect((await probeRunsc({ runscPath: binary, cacheFile })).cached).toBe(true);

    // A package manager replaces the file (new inode); same length and mtime must not fool the cache.
    const before = statSync(binary);
    const replacement = join(dir, 'runsc.new');
    writeFileSync(replacement, readFileSync(binary));
    chmodSync(replacement, 0o755);
    utimesSync(replacement, before.atime, before.mtime);
    renameSync(replacement, binary);
    asked = callCount();
    const replaced = await probeRunsc({ runscPath: binary, cacheFile });
    expect(replaced.cached).toBe(false);
    expect(callCount()).toBeGreaterThan(asked);
  });

  it('probes again over a cache file that is not one, and says when runsc is missing', async () => {
    writeFileSync(cacheFile, '{"key":');
    const asked = callCount();
    const probe = await probeRunsc({ runscPath: binary, cacheFile });
    expect(probe.cached).toBe(false);
    expect(callCount()).toBeGreaterThan(asked);
    expect(JSON.parse(readFileSync(cacheFile, 'utf8')).key.path).toBe(binary);
    await expect(probeRunsc({ runscPath: join(dir, 'missing'), cacheFile })).rejects.toThrow(
      /runsc not found/,
    );
  });
});
