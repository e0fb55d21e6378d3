import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

// Real processes: the supervisor as `npm start` runs it, with small node servers standing in for the
// web app and the gateway, killed with real signals.
const supervisor = join(import.meta.dirname, 'supervise.ts');

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A node child that serves HTTP on `port` (or just stays alive when port is 0). */
function server(port: number): string {
  const code = port
    ? `require('http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1')`
    : 'setInterval(() => {}, 1000)';
  return `node -e "${code}"`;
}

interface Run {
  child: ChildProcess;
  output: () => string;
  waitFor: (pattern: RegExp, from?: number) => Promise<RegExpExecArray>;
}

const runs: ChildProcess[] = [];
afterEach(() => {
  for (const child of runs.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function supervise(args: string[]): Run {
  let text = '';
  const child = spawn(process.execPath, ['--import', 'tsx', supervisor, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  runs.push(child);
  child.stdout?.on('data', (chunk) => (text += chunk));
  child.stderr?.on('data', (chunk) => (text += chunk));
  const waitFor = async (pattern: RegExp, from = 0) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const match = pattern.exec(text.slice(from));
      if (match) return match;
      if (Date.now() > deadline) throw new Error(`never saw ${pattern} in:\n${text}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  return { child, output: () => text, waitFor };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start supervisor', () => {
  it('restarts a killed web server, leaves the gateway running, and stops both on Ctrl-C', async () => {
    const port = await freePort();
    const run = supervise([
      '--process',
      `gateway=${server(0)}`,
      '--process',
      `web=${server(port)}`,
      '--ready',
      `web=http://127.0.0.1:${port}/=web app on http://localhost:${port}`,
    ]);
    const gatewayPid = Number((await run.waitFor(/gateway started \(pid (\d+)\)/))[1]);
    const webPid = Number((await run.waitFor(/web started \(pid (\d+)\)/))[1]);
    await run.waitFor(/web app on http:\/\/localhost:\d+/);

    const before = run.output().length;
    process.kill(webPid, 'SIGKILL');
    await run.waitFor(/web exited \(SIGKILL\); restarting in 1 s/, before);
    const restartedPid = Number((await run.waitFor(/web started \(pid (\d+)\)/, before))[1]);
    expect(restartedPid).not.toBe(webPid);
    await run.waitFor(/web app on http:\/\/localhost:\d+/, before);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');
    expect(alive(gatewayPid)).toBe(true);
    expect(run.output().match(/gateway started/g)).toHaveLength(1);

    run.child.kill('SIGINT');
    const [code] = await once(run.child, 'exit');
    expect(code).toBe(0);
    expect(run.output()).toMatch(/Ctrl-C: stopping gateway and web/);
    expect(alive(gatewayPid)).toBe(false);
    expect(alive(restartedPid)).toBe(false);
  });

  it('backs off exponentially while a process keeps crashing', async () => {
    const run = supervise([
      '--backoff-ms',
      '100',
      '--process',
      'flaky=node -e "process.exit(3)"',
      '--process',
      `steady=${server(0)}`,
    ]);
    await run.waitFor(/flaky exited \(code 3\); restarting in 0\.8 s/);
    const delays = [...run.output().matchAll(/flaky exited \(code 3\); restarting in ([\d.]+) s/g)].map(
      (match) => Number(match[1]),
    );
    expect(delays.slice(0, 4)).toEqual([0.1, 0.2, 0.4, 0.8]);
    expect(run.output().match(/steady started/g)).toHaveLength(1);
    run.child.kill('SIGTERM');
    expect((await once(run.child, 'exit'))[0]).toBe(0);
  });
});
