import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// Kiln does not phone home. The web app, the gateway and the embedded Postgres run in a network
// namespace of their own (unshare --net, root) whose default route is lo: every connection to an
// outside address stays visible in /proc/net/tcp. The driver also dials a documentation address on
// purpose and must see it, so a watch that sees nothing cannot pass by accident.
test('the web app and the kernel gateway open no connection outside loopback', async () => {
  test.setTimeout(600_000);
  const driver = spawn(
    'unshare',
    [
      '--net',
      '--',
      'bash',
      '-c',
      'ip link set lo up && ip route add default dev lo && exec node --import tsx e2e/support/no-phone-home-driver.ts',
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  driver.stdout.on('data', (chunk) => (output += chunk));
  driver.stderr.on('data', (chunk) => (output += chunk));
  const code = await new Promise((resolve) => driver.on('exit', resolve));
  expect(code, output).toBe(0);
  const result = JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as {
    foreign: string[];
    probeSeen: boolean;
  };
  expect(result.probeSeen, 'the watch saw the probe connection').toBe(true);
  expect(result.foreign).toEqual([]);
});
