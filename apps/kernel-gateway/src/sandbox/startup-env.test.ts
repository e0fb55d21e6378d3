import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BASE_ENV, buildOciSpec, STARTUP_ENV } from './oci-spec.ts';

// A removed editor's files stay on the shared /workspace volume. Nothing there may be a startup
// file that runs as whoever opens a terminal or starts a kernel next.
const PYTHON = '/usr/bin/python3';
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function planted(): string {
  const base = mkdtempSync(join(tmpdir(), 'kiln-userbase-'));
  dirs.push(base);
  const version = execFileSync(PYTHON, [
    '-c',
    'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")',
  ])
    .toString()
    .trim();
  const site = join(base, 'lib', `python${version}`, 'site-packages');
  mkdirSync(site, { recursive: true });
  writeFileSync(join(site, 'usercustomize.py'), 'print("PLANTED usercustomize")\n');
  writeFileSync(join(site, 'evil.pth'), 'import sys; print("PLANTED pth")\n');
  return base;
}

function run(env: Record<string, string>): string {
  return execFileSync(PYTHON, ['-c', 'print("ran")'], { env: { PATH: '/usr/bin:/bin', ...env } }).toString();
}

describe('sandbox startup files', () => {
  it('keeps HOME, user site-packages and IPython/Jupyter config off the shared volume', () => {
    for (const [key, value] of Object.entries(STARTUP_ENV)) {
      if (value.startsWith('/')) expect(value.startsWith('/workspace'), key).toBe(false);
    }
    const spec = buildOciSpec({
      paths: { imageDir: '/i', agentDir: '/a', channelDir: '/c', volumeDir: '/v', volRoot: '/r' },
      resources: { cpu: 1, memoryMiB: 512 },
      env: {},
      cgroupsPath: '/kiln/x',
      args: ['python3'],
      uid: 1000,
    }) as { process: { env: string[] } };
    expect(spec.process.env).toContain('HOME=/tmp/home');
    expect(spec.process.env).toContain('PYTHONNOUSERSITE=1');
    expect(BASE_ENV.HOME).toBe('/tmp/home');
  });

  it('does not run a planted usercustomize.py or .pth from the user base', () => {
    const base = planted();
    // The same files do run when user site-packages are on: the plant is real.
    expect(run({ PYTHONUSERBASE: base })).toMatch(/PLANTED/);
    expect(run({ ...STARTUP_ENV, PYTHONUSERBASE: base })).toBe('ran\n');
  });
});
