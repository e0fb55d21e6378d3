// The peer for the notebook-open benchmark: Debian's Jupyter Notebook 6.4 server (`jupyter-notebook`),
// installed here with apt when missing (the bench is the only thing that needs it, so setup does not),
// serving the benchmark's .ipynb files from a temporary directory on a free loopback port.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../notebook/app.ts';

const BINARY = '/usr/bin/jupyter-notebook';

/** A running Jupyter Notebook server; `urlFor` opens a file of its directory with the token. */
export interface JupyterPeer {
  version: string;
  urlFor(file: string): string;
  stop(): Promise<void>;
}

/** Installs Debian's `jupyter-notebook` when the binary is absent (needs root and the apt sources). */
export function ensureJupyterNotebook(): void {
  if (existsSync(BINARY)) return;
  console.log('installing jupyter-notebook with apt (the benchmark peer)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'jupyter-notebook'], {
    stdio: 'inherit',
    env,
  });
}

/** Starts the server over a fresh directory holding `files` (name to .ipynb text). */
export async function startJupyter(files: Record<string, string>): Promise<JupyterPeer> {
  ensureJupyterNotebook();
  const version = execFileSync(BINARY, ['--version'], { encoding: 'utf8' }).trim();
  const home = await mkdtemp(join(tmpdir(), 'kiln-bench-jupyter-'));
  const notebooks = join(home, 'notebooks');
  execFileSync('mkdir', ['-p', notebooks]);
  for (const [name, content] of Object.entries(files)) await writeFile(join(notebooks, name), content);
  const port = await freePort();
  const token = `bench${process.pid}${Date.now()}`;
  let log = '';
  // Its own HOME and Jupyter dirs, so no user configuration or extension changes what it serves.
  const child: ChildProcess = spawn(
    BINARY,
    [
      '--no-browser',
      '--allow-root',
      '--ip=127.0.0.1',
      `--port=${port}`,
      '--NotebookApp.port_retries=0',
      `--NotebookApp.token=${token}`,
      `--NotebookApp.notebook_dir=${notebooks}`,
    ],
    {
      env: {
        ...process.env,
        HOME: home,
        JUPYTER_CONFIG_DIR: join(home, 'config'),
        JUPYTER_DATA_DIR: join(home, 'data'),
        JUPYTER_RUNTIME_DIR: join(home, 'runtime'),
        IPYTHONDIR: join(home, 'ipython'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.on('data', (chunk) => (log = (log + chunk).slice(-8000)));
  child.stderr?.on('data', (chunk) => (log = (log + chunk).slice(-8000)));
  const base = `http://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(home, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`jupyter-notebook exited early:\n${log}`);
    }
    const ok = await fetch(`${base}/api/status?token=${token}`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`jupyter-notebook did not answer within 60 s:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    version: `Jupyter Notebook ${version}`,
    urlFor: (file) => `${base}/notebooks/${encodeURIComponent(file)}?token=${token}`,
    stop,
  };
}
