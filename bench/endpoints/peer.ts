import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../notebook/app.ts';

const ECHO = 'def echo(x=0):\n    return x\n';

/**
 * The same function served by FastAPI on uvicorn (Debian's packages), no sandbox. `source` defines
 * `echo` (default: the trivial one); `firstAnswerMs` is from spawning uvicorn to its first answer.
 */
export async function startFastApi(
  workers: number,
  source = ECHO,
): Promise<{ url: string; firstAnswerMs: number; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-bench-fastapi-'));
  await writeFile(
    join(dir, 'app.py'),
    [
      'from fastapi import FastAPI, Request',
      '',
      'app = FastAPI()',
      '',
      source,
      '',
      '@app.post("/echo")',
      'async def call(request: Request):',
      '    return echo(**(await request.json()))',
      '',
    ].join('\n'),
  );
  const spawned = performance.now();
  const port = await freePort();
  const child: ChildProcess = spawn(
    '/usr/bin/python3',
    [
      '-m',
      'uvicorn',
      'app:app',
      '--port',
      String(port),
      '--workers',
      String(workers),
      '--log-level',
      'warning',
    ],
    { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const url = `http://127.0.0.1:${port}/echo`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await fetch(url, {
      method: 'POST',
      body: '{"x": 1}',
      headers: { 'content-type': 'application/json' },
    })
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error('uvicorn did not answer within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const firstAnswerMs = performance.now() - spawned;
  return {
    url,
    firstAnswerMs,
    async close() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
