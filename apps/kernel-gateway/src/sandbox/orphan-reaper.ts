import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EnvSeal } from './env-seal.ts';
import type { RunscCli } from './runsc-cli.ts';
import { readSandboxRecord, type SandboxRecord } from './sandbox-record.ts';
import { removeRunDir } from './volume-mounts.ts';

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

/** A kernel's sandbox left by a gateway process that died: the next gateway may re-adopt it. */
export interface Orphan {
  /** The runsc container id (also the run dir's name). */
  id: string;
  runDir: string;
  record: SandboxRecord;
}

/** Stops an orphan's container and removes its run dir (never the workspace volume). */
export async function reapOrphan(cli: RunscCli, runDir: string, id: string): Promise<void> {
  await cli.run(['delete', '--force', id]).catch(() => undefined);
  await removeRunDir(runDir);
}

/**
 * Finds the sandboxes left by a gateway process that died (its pid is gone), reading only files: those
 * that hosted a kernel are returned for re-adoption, the rest (spares, half-built templates) as `spare`
 * for the caller to delete, so a restart does not leak containers, memory and cgroups. Sandboxes of live
 * processes sharing the state dir are left out.
 */
export async function findOrphans(
  stateDir: string,
  envSeal: EnvSeal | undefined,
): Promise<{ adoptable: Orphan[]; spare: Omit<Orphan, 'record'>[] }> {
  const runRoot = join(stateDir, 'run');
  const entries = await readdir(runRoot).catch(() => [] as string[]);
  const adoptable: Orphan[] = [];
  const spare: Omit<Orphan, 'record'>[] = [];
  for (const id of entries) {
    const runDir = join(runRoot, id);
    const owner = Number(await readFile(join(runDir, OWNER_FILE), 'utf8').catch(() => 'NaN'));
    if (Number.isInteger(owner) && alive(owner)) continue;
    const record = await readSandboxRecord(runDir, envSeal);
    if (record) adoptable.push({ id, runDir, record });
    else spare.push({ id, runDir });
  }
  return { adoptable, spare };
}
