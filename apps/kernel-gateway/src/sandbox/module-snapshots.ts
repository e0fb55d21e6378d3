import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import type { VolumeMountSpec } from '@kiln/kernel-protocol';
import type { EnvSeal } from './env-seal.ts';
import type { CheckpointArgs } from './runsc-features.ts';
import {
  checkpointInstance,
  destroyInstance,
  type LaunchContext,
  type LaunchRequest,
  type SandboxInstance,
} from './sandbox-instance.ts';
import { type SealedCheckpoint, sealCheckpoint, unsealCheckpoint } from './sealed-checkpoint.ts';
import { snapshotKey } from './snapshot-template.ts';
import type { JupyterMessage, ResourceRequest } from './types.ts';

/** Module snapshots kept per workspace; the least recently restored go first. */
const KEPT_PER_WORKSPACE = 8;
/** Longest a module's import may take in the template before the snapshot is given up. */
const IMPORT_TIMEOUT_MS = 120_000;
/** Where in a snapshot's folder a sealed image's files are (beside its `complete` mark). */
const SEALED_DIR = 'sealed';

export interface ModuleSnapshotRequest {
  workspaceId: string;
  resources: ResourceRequest;
  diskMiB?: number;
  /** Python run once after start (an endpoint version's module and its call wrapper). */
  code: string;
  /**
   * The sandbox's env (its secret values): the import runs with it, as it would on a replica's own start,
   * so a snapshot taken with any is sealed (see `sealing`) and one per distinct env is kept.
   */
  env?: Record<string, string>;
  /** Named volumes the import runs with (bound into /vol as for kernels, see volume-mounts.ts). */
  volumes?: VolumeMountSpec[];
}

/** A finished module snapshot: where it is, and what running its code took in the template. */
export interface ModuleSnapshot {
  path: string;
  importMs: number;
  /** Set when the image on disk is encrypted (it was taken with secrets); `unpack` it before a restore. */
  sealed?: SealedCheckpoint;
}

/** A module snapshot's image ready for `runsc restore`; `release` deletes what was decrypted for it. */
export interface UnpackedSnapshot {
  path: string;
  restoreArgs?: CheckpointArgs;
  release(): Promise<void>;
}

interface SnapshotMark {
  at: string;
  importMs: number;
  sealed?: boolean;
  /** The image's key sealed under the gateway's secret (env-seal.ts), so a restarted gateway can open it. */
  sealedKey?: string;
}

export interface ModuleSnapshotsOptions {
  stateDir: string;
  /** Starts the template sandbox (through the driver's launch limiter). */
  launch(ctx: LaunchContext, request: LaunchRequest): Promise<SandboxInstance>;
  /**
   * How snapshots taken with secrets are kept, as hibernation images are (sealed-checkpoint.ts): runsc
   * writes and reads them in clear only in `scratchDir` (memory-backed), with `args` that suit it; on disk
   * they are AES-256-GCM under a key per image kept in memory and, with `envSeal`, sealed in the mark.
   */
  sealing: { scratchDir: string; args: CheckpointArgs; envSeal?: EnvSeal };
}

/**
 * Snapshots of sandboxes that have already run a piece of code (an endpoint version's module import),
 * one per workspace, image, machine size and code, under `<stateDir>/snapshots/modules/<workspace>/`.
 * A start asks `find()`: a finished snapshot is restored instead of the image's; a missing one is built
 * in the background from a sandbox of its own (the start itself is never delayed by the build), so the
 * next start after a scale to zero restores a sandbox that has nothing left to import.
 */
export function createModuleSnapshots(options: ModuleSnapshotsOptions) {
  const root = join(options.stateDir, 'snapshots', 'modules');
  const building = new Map<string, Promise<void>>();
  /** Code whose import failed in the template: not tried again by this process. */
  const failed = new Set<string>();
  /** Keys of the sealed snapshots this process built or opened, by path. */
  const keys = new Map<string, Buffer>();
  // Without the gateway's secret, env digests (and so sealed snapshots) last as long as this process.
  const processKey = randomBytes(32);
  const { envSeal } = options.sealing;
  const digest = (text: string) =>
    envSeal ? envSeal.digest(text) : createHmac('sha256', processKey).update(text).digest('hex');
  /** What a sealed snapshot's key is bound to, so a mark copied next to another snapshot does not open. */
  const keyContext = (path: string) => `module-snapshot:${relative(root, path)}`;

  function location(ctx: LaunchContext, request: ModuleSnapshotRequest) {
    const hash = createHash('sha256');
    hash.update(snapshotKey(ctx)).update(ctx.imageDir);
    hash.update(`${request.resources.cpu}|${request.resources.memoryMiB}|${request.diskMiB ?? '-'}`);
    hash.update(request.code);
    const env = Object.entries(request.env ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    // Keyed, so a folder name on disk cannot be used to test guesses of a secret's value.
    if (env.length > 0) hash.update(`|env:${digest(JSON.stringify(env))}`);
    if (request.volumes?.length) hash.update(`|volumes:${JSON.stringify(request.volumes)}`);
    // Workspace ids are the scheduler's UUIDs; the folder keeps one workspace's snapshots from another's.
    const dir = join(root, request.workspaceId.replace(/[^A-Za-z0-9-]/g, '_'));
    return { dir, path: join(dir, hash.digest('hex').slice(0, 24)) };
  }

  async function build(
    ctx: LaunchContext,
    base: string | undefined,
    request: ModuleSnapshotRequest,
    path: string,
  ): Promise<void> {
    const scratch = `${path}.building-${randomUUID().slice(0, 8)}`;
    const env = request.env ?? {};
    // The template's memory holds the secrets it imported with: its image is only ever in clear in memory.
    const plain = Object.keys(env).length > 0 ? await sealingScratch(basename(scratch)) : undefined;
    await mkdir(scratch, { recursive: true });
    try {
      const instance = await options.launch(ctx, {
        workspaceId: request.workspaceId,
        resources: request.resources,
        env,
        snapshotPath: base,
        diskMiB: request.diskMiB,
        volumes: request.volumes,
      });
      let importMs: number;
      try {
        const started = performance.now();
        await runCode(instance, request.code, IMPORT_TIMEOUT_MS);
        importMs = Math.round(performance.now() - started);
        if (plain) await checkpointInstance(instance, plain, options.sealing.args);
        else await checkpointInstance(instance, scratch);
      } finally {
        await destroyInstance(instance);
      }
      const mark: SnapshotMark = { at: new Date().toISOString(), importMs };
      let key: Buffer | undefined;
      if (plain) {
        // In a folder of its own: the mark beside it is not part of the sealed image.
        key = (await sealCheckpoint(plain, join(scratch, SEALED_DIR))).key;
        mark.sealed = true;
        if (envSeal) mark.sealedKey = envSeal.seal({ key: key.toString('base64') }, keyContext(path));
      }
      await writeFile(join(scratch, 'complete'), JSON.stringify(mark));
      await rm(path, { recursive: true, force: true });
      await rename(scratch, path);
      if (key) keys.set(path, key);
      else keys.delete(path);
    } catch (error) {
      await rm(scratch, { recursive: true, force: true });
      if (plain) await rm(plain, { recursive: true, force: true });
      throw error instanceof Error ? new Error(hideValues(error.message, env)) : error;
    }
    await prune(join(path, '..'));
  }

  /** A fresh root-only folder in the memory-backed scratch space. */
  async function sealingScratch(name: string): Promise<string> {
    await mkdir(options.sealing.scratchDir, { recursive: true, mode: 0o700 });
    await chmod(options.sealing.scratchDir, 0o700);
    return join(options.sealing.scratchDir, `module-${name}`);
  }

  /** The key of a sealed snapshot: this process's, else opened from its mark; undefined if neither. */
  function keyOf(path: string, mark: SnapshotMark): Buffer | undefined {
    const known = keys.get(path);
    if (known || !mark.sealedKey || !envSeal) return known;
    try {
      const key = Buffer.from(envSeal.open(mark.sealedKey, keyContext(path)).key ?? '', 'base64');
      if (key.length !== 32) return undefined;
      keys.set(path, key);
      return key;
    } catch {
      return undefined;
    }
  }

  async function prune(dir: string): Promise<void> {
    const entries = await readdir(dir).catch(() => [] as string[]);
    // Half-built templates of a gateway that died mid-build; an hour leaves any build in progress alone.
    for (const name of entries.filter((entry) => entry.includes('.building-'))) {
      const info = await stat(join(dir, name)).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs > 3_600_000)
        await rm(join(dir, name), { recursive: true, force: true });
    }
    const dated = await Promise.all(
      entries
        .filter((name) => !name.includes('.building-'))
        .map(async (name) => ({
          name,
          used: (await stat(join(dir, name, 'complete')).catch(() => undefined))?.mtimeMs ?? 0,
        })),
    );
    dated.sort((a, b) => b.used - a.used);
    for (const entry of dated.slice(KEPT_PER_WORKSPACE))
      await rm(join(dir, entry.name), { recursive: true, force: true });
  }

  return {
    /**
     * The finished snapshot for this code, or undefined after starting its build in the background
     * (`base`: the image's own snapshot the template restores from).
     */
    async find(
      ctx: LaunchContext,
      base: string | undefined,
      request: ModuleSnapshotRequest,
    ): Promise<ModuleSnapshot | undefined> {
      const { path } = location(ctx, request);
      const complete = join(path, 'complete');
      const mark = await readFile(complete, 'utf8').then(
        (text) => JSON.parse(text) as SnapshotMark,
        () => undefined,
      );
      // A sealed snapshot whose key is lost (another gateway secret, or none and a restart) is rebuilt.
      const key = mark?.sealed ? keyOf(path, mark) : undefined;
      if (mark && (!mark.sealed || key)) {
        // Marks it recently used, so pruning keeps it.
        const now = new Date();
        await utimes(complete, now, now).catch(() => undefined);
        return {
          path,
          importMs: mark.importMs,
          ...(key ? { sealed: { dir: join(path, SEALED_DIR), key } } : {}),
        };
      }
      if (!building.has(path) && !failed.has(path)) {
        const job = build(ctx, base, request, path)
          .catch((error: unknown) => {
            failed.add(path);
            console.error(
              `[kernel-gateway] module snapshot for workspace ${request.workspaceId} failed; its sandboxes import on start:`,
              error instanceof Error ? error.message : error,
            );
          })
          .finally(() => building.delete(path));
        building.set(path, job);
      }
      return undefined;
    },
    /** The image of a snapshot `find` returned, decrypted into memory-backed scratch space when sealed. */
    async unpack(snapshot: ModuleSnapshot): Promise<UnpackedSnapshot> {
      if (!snapshot.sealed) return { path: snapshot.path, release: async () => undefined };
      const plain = await sealingScratch(`${basename(snapshot.path)}-${randomUUID().slice(0, 8)}`);
      const release = () => rm(plain, { recursive: true, force: true });
      try {
        await unsealCheckpoint(snapshot.sealed, plain);
      } catch (error) {
        await release();
        throw error;
      }
      return { path: plain, restoreArgs: options.sealing.args, release };
    },
    /** Builds in progress (tests and shutdown wait for them). */
    settled(): Promise<void> {
      return Promise.all(building.values()).then(() => undefined);
    },
  };
}

export type ModuleSnapshots = ReturnType<typeof createModuleSnapshots>;

/** `text` with the env's values blanked out, for errors of an import that ran with secrets. */
function hideValues(text: string, env: Record<string, string>): string {
  let hidden = text;
  for (const value of Object.values(env)) if (value.length > 0) hidden = hidden.split(value).join('[secret]');
  return hidden;
}

/** Runs `code` in the sandbox's kernel and waits until it is idle again; throws the Python error. */
function runCode(instance: SandboxInstance, code: string, timeoutMs: number): Promise<void> {
  const msgId = randomUUID();
  const message: JupyterMessage = {
    channel: 'shell',
    header: {
      msg_id: msgId,
      msg_type: 'execute_request',
      session: `kiln-module-snapshot-${msgId}`,
      username: 'kiln',
      date: new Date().toISOString(),
      version: '5.3',
    },
    parent_header: {},
    metadata: {},
    content: {
      code,
      silent: false,
      store_history: false,
      user_expressions: {},
      allow_stdin: false,
      stop_on_error: true,
    },
    buffers: [],
  };
  return new Promise((resolve, reject) => {
    let reply: Record<string, unknown> | undefined;
    let idle = false;
    const finish = (error?: Error) => {
      clearTimeout(timer);
      off();
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(
      () => finish(new Error(`the import took over ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    const off = instance.channel.onFrame((frame) => {
      if (frame.kind !== 'message' || frame.message.parent_header?.msg_id !== msgId) return;
      const { header, content } = frame.message;
      if (header.msg_type === 'execute_reply') reply = content;
      else if (header.msg_type === 'status' && content.execution_state === 'idle') idle = true;
      if (!reply || !idle) return;
      if (reply.status === 'ok') finish();
      else finish(new Error(`the import raised ${String(reply.ename)}: ${String(reply.evalue)}`));
    });
    void instance.container.exited().then((exit) => finish(new Error(`the sandbox exited (${exit.status})`)));
    instance.channel.send(message);
  });
}
