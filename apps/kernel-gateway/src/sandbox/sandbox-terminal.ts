import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as pty from 'node-pty';
import { SANDBOX_UID, STARTUP_ENV } from './oci-spec.ts';
import type { RunscContainer } from './runsc-container.ts';
import type { TerminalPty } from './types.ts';

/**
 * Opens a shell inside the container. node-pty gives `runsc exec` a host pty as stdio, and a process
 * spec with `terminal: true` makes gVisor use that pty as the shell's controlling terminal, so the
 * shell sees a real tty (job control, line editing, window size) while every byte stays in the sandbox.
 */
export function openSandboxTerminal(
  container: RunscContainer,
  size: { cols: number; rows: number },
): TerminalPty {
  const processPath = join(container.runDir, `terminal-${randomUUID()}.json`);
  writeFileSync(
    processPath,
    JSON.stringify({
      terminal: true,
      user: { uid: SANDBOX_UID, gid: SANDBOX_UID },
      args: ['/bin/bash', '-l'],
      env: [
        'PATH=/usr/local/bin:/usr/bin:/bin',
        ...Object.entries(STARTUP_ENV).map(([key, value]) => `${key}=${value}`),
        'TERM=xterm-256color',
        'LANG=C.UTF-8',
        'PS1=\\w$ ',
      ],
      cwd: '/workspace',
      capabilities: { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] },
      noNewPrivileges: true,
    }),
  );
  const cli = container.cli;
  const child = pty.spawn(cli.path, [...cli.globalFlags, 'exec', `--process=${processPath}`, container.id], {
    name: 'xterm-256color',
    cols: size.cols,
    rows: size.rows,
    cwd: container.runDir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  });
  let exited = false;
  child.onExit(() => {
    exited = true;
    rmSync(processPath, { force: true });
  });
  return {
    write: (data) => child.write(data),
    resize: (cols, rows) => {
      if (!exited) child.resize(cols, rows);
    },
    onData: (listener) => {
      const subscription = child.onData(listener);
      return () => subscription.dispose();
    },
    onExit: (listener) => {
      const subscription = child.onExit(({ exitCode }) => listener(exitCode));
      return () => subscription.dispose();
    },
    kill: () => {
      if (!exited) child.kill('SIGKILL');
    },
  };
}
