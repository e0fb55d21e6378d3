import { mkdirSync } from 'node:fs';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageSpec } from '@kiln/images';
import type { EnvSeal } from '../sandbox/env-seal.ts';
import { openedEnv } from '../sandbox/sandbox-record.ts';
import type { ResourceRequest, VolumeMountSpec } from '../sandbox/types.ts';

/** What a gateway that restarts after a crash needs to take one of its kernels back. */
export interface KernelRecord {
  id: string;
  name: string;
  workspaceId: string;
  resources: ResourceRequest;
  env?: Record<string, string>;
  /** Named volumes the kernel mounts (a replacement sandbox mounts them again). */
  volumes?: VolumeMountSpec[];
  /** The workspace image it runs on (a replacement sandbox starts from it again); none: the base image. */
  image?: ImageSpec;
  /** The driver's id of the sandbox hosting the kernel now (a replacement sandbox gets `<id>.<n>`). */
  sandboxId: string;
  /** How many sandboxes the kernel has had (names the next replacement). */
  generation: number;
  /** The client session last attached: its output is buffered until it reconnects. */
  sessionId: string | null;
  /** Why Kiln paused the kernel (a spending cap): a restarted gateway keeps it asleep until a client runs it. */
  pausedReason?: string | null;
}

/**
 * One file per kernel under the gateway's state dir (root-only; its env only sealed). Writes per
 * kernel are serialized, so the last state written is the last state on disk.
 */
export class KernelRecords {
  private readonly writes = new Map<string, Promise<void>>();

  /** Without a seal the kernel's env is not recorded at all (a restart after re-adoption lacks it). */
  constructor(
    private readonly dir: string,
    private readonly seal: EnvSeal | undefined,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  save(record: KernelRecord): Promise<void> {
    return this.serial(record.id, async () => {
      const path = this.path(record.id);
      const temporary = `${path}.tmp`;
      const { env, ...rest } = record;
      const stored = env && this.seal ? { ...rest, sealedEnv: this.seal.seal(env, record.id) } : rest;
      await writeFile(temporary, JSON.stringify(stored), { mode: 0o600 });
      await rename(temporary, path);
    });
  }

  remove(id: string): Promise<void> {
    return this.serial(id, () => rm(this.path(id), { force: true }));
  }

  /** Every readable record; unreadable files (a torn write) are skipped and removed. */
  async list(): Promise<KernelRecord[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const records: KernelRecord[] = [];
    for (const name of names.filter((entry) => entry.endsWith('.json'))) {
      try {
        const stored = JSON.parse(await readFile(join(this.dir, name), 'utf8')) as KernelRecord & {
          sealedEnv?: string;
        };
        if (typeof stored.id !== 'string' || typeof stored.sandboxId !== 'string') continue;
        const { sealedEnv, env: _clear, ...record } = stored;
        records.push({ ...record, ...openedEnv(sealedEnv, record.id, this.seal) });
      } catch {
        await rm(join(this.dir, name), { force: true });
      }
    }
    return records;
  }

  private path(id: string): string {
    return join(this.dir, `${encodeURIComponent(id)}.json`);
  }

  private serial(id: string, step: () => Promise<void>): Promise<void> {
    const next = (this.writes.get(id) ?? Promise.resolve())
      .then(step)
      .catch((error: unknown) => console.error(`[kernel-gateway] kernel ${id}: could not record it:`, error));
    this.writes.set(id, next);
    void next.then(() => {
      if (this.writes.get(id) === next) this.writes.delete(id);
    });
    return next;
  }
}
