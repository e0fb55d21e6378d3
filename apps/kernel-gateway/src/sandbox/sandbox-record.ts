import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EnvSeal } from './env-seal.ts';
import type { ResourceRequest, VolumeMountSpec } from './types.ts';

const RECORD_FILE = 'kernel.json';

/**
 * What a sandbox hosting a kernel keeps in its run dir, so a gateway that restarts after a crash can
 * re-adopt it (reconnect to its agent, variables intact) instead of stopping it. Root-only; the kernel's
 * env (its secrets) is on disk only sealed (`sealedEnv`), and not at all without an EnvSeal.
 */
export interface SandboxRecord {
  /** The driver's kernel id (the registry's kernel id, or `<id>.<n>` for a replacement sandbox). */
  kernelId: string;
  workspaceId: string;
  resources: ResourceRequest;
  env?: Record<string, string>;
  volumes?: VolumeMountSpec[];
  diskMiB?: number;
  gpuIndices?: number[];
  startedFrom: 'cold' | 'snapshot' | 'pool' | 'module';
  /** Checkpointed to `<runDir>/hibernate` and no longer running. */
  hibernated: boolean;
  /** The key of the sealed hibernation image (base64); on disk only sealed, like `env`. */
  checkpointKey?: string;
}

export async function writeSandboxRecord(
  runDir: string,
  record: SandboxRecord,
  seal: EnvSeal | undefined,
): Promise<void> {
  const path = join(runDir, RECORD_FILE);
  const temporary = `${path}.${process.pid}.tmp`;
  const { env, checkpointKey, ...rest } = record;
  const stored = {
    ...rest,
    ...(env && seal ? { sealedEnv: seal.seal(env, record.kernelId) } : {}),
    ...(checkpointKey && seal
      ? { sealedCheckpointKey: seal.seal({ key: checkpointKey }, `${record.kernelId}:checkpoint`) }
      : {}),
  };
  await writeFile(temporary, JSON.stringify(stored), { mode: 0o600 });
  await rename(temporary, path);
}

/** The run dir's record, or null for a sandbox that hosted no kernel (a spare, a snapshot template). */
export async function readSandboxRecord(
  runDir: string,
  seal: EnvSeal | undefined,
): Promise<SandboxRecord | null> {
  let stored: SandboxRecord & { sealedEnv?: string; sealedCheckpointKey?: string };
  try {
    stored = JSON.parse(await readFile(join(runDir, RECORD_FILE), 'utf8')) as typeof stored;
  } catch {
    return null;
  }
  if (typeof stored.kernelId !== 'string' || typeof stored.workspaceId !== 'string') return null;
  const { sealedEnv, sealedCheckpointKey, env: _env, checkpointKey: _key, ...record } = stored;
  const checkpointKey = openedEnv(sealedCheckpointKey, `${record.kernelId}:checkpoint`, seal).env?.key;
  return {
    ...record,
    ...openedEnv(sealedEnv, record.kernelId, seal),
    ...(checkpointKey ? { checkpointKey } : {}),
  };
}

/**
 * The env of a record, if it can be opened. One that cannot (another gateway secret) only costs the
 * kernel its env on a later restart: the running sandbox keeps the env it was started with.
 */
export function openedEnv(
  sealedEnv: string | undefined,
  context: string,
  seal: EnvSeal | undefined,
): { env?: Record<string, string> } {
  if (sealedEnv === undefined || !seal) return {};
  try {
    return { env: seal.open(sealedEnv, context) };
  } catch (error) {
    console.error(`[kernel-gateway] kernel ${context}: its recorded env cannot be opened:`, error);
    return {};
  }
}
