import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunscCli } from './runsc-cli.ts';

const OWNER_FILE = 'owner.pid';

/** Marks a sandbox run dir as belonging to this process. */
export function claimRunDir(runDir: string): Promise<void> {
  return writeFile(join(runDir, OWNER_FILE), String(process.pid));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes sandboxes left running by a gateway process that died (its pid is gone), so a restart does
 * not leak containers, memory and cgroups. Sandboxes of live processes sharing the state dir are kept.
 */
export async function reapOrphans(cli: RunscCli, stateDir: string): Promise<string[]> {
  const runRoot = join(stateDir, 'run');
  const entries = await readdir(runRoot).catch(() => [] as string[]);
  const reaped: string[] = [];
  for (const id of entries) {
    const owner = Number(await readFile(join(runRoot, id, OWNER_FILE), 'utf8').catch(() => 'NaN'));
    if (Number.isInteger(owner) && alive(owner)) continue;
    await cli.run(['delete', '--force', id]).catch(() => undefined);
    await rm(join(runRoot, id), { recursive: true, force: true });
    reaped.push(id);
  }
  return reaped;
}
