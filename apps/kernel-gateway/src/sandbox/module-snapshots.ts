import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  checkpointInstance,
  destroyInstance,
  type LaunchContext,
  type LaunchRequest,
  type SandboxInstance,
} from './sandbox-instance.ts';
import { snapshotKey } from './snapshot-template.ts';
import type { JupyterMessage, ResourceRequest } from './types.ts';

/** Module snapshots kept per workspace; the least recently restored go first. */
const KEPT_PER_WORKSPACE = 8;
/** Longest a module's import may take in the template before the snapshot is given up. */
const IMPORT_TIMEOUT_MS = 120_000;

export interface ModuleSnapshotRequest {
  workspaceId: string;
  resources: ResourceRequest;
  diskMiB?: number;
  /** Python run once after start (an endpoint version's module and its call wrapper). */
  code: string;
}

/** A finished module snapshot: where it is, and what running its code took in the template. */
export interface ModuleSnapshot {
  path: string;
  importMs: number;
}

interface SnapshotMark {
  at: string;
  importMs: number;
}

export interface ModuleSnapshotsOptions {
  stateDir: string;
  /** Starts the template sandbox (through the driver's launch limiter). */
  launch(ctx: LaunchContext, request: LaunchRequest): Promise<SandboxInstance>;
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

  function location(ctx: LaunchContext, request: ModuleSnapshotRequest) {
    const hash = createHash('sha256');
    hash.update(snapshotKey(ctx)).update(ctx.imageDir);
    hash.update(`${request.resources.cpu}|${request.resources.memoryMiB}|${request.diskMiB ?? '-'}`);
    hash.update(request.code);
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
    await mkdir(scratch, { recursive: true });
    try {
      const instance = await options.launch(ctx, {
        workspaceId: request.workspaceId,
        resources: request.resources,
        env: {},
        snapshotPath: base,
        diskMiB: request.diskMiB,
      });
      let importMs: number;
      try {
        const started = performance.now();
        await runCode(instance, request.code, IMPORT_TIMEOUT_MS);
        importMs = Math.round(performance.now() - started);
        await checkpointInstance(instance, scratch);
      } finally {
        await destroyInstance(instance);
      }
      await writeFile(
        join(scratch, 'complete'),
        JSON.stringify({ at: new Date().toISOString(), importMs } satisfies SnapshotMark),
      );
      await rm(path, { recursive: true, force: true });
      await rename(scratch, path);
    } catch (error) {
      await rm(scratch, { recursive: true, force: true });
      throw error;
    }
    await prune(join(path, '..'));
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
      if (mark) {
        // Marks it recently used, so pruning keeps it.
        const now = new Date();
        await utimes(complete, now, now).catch(() => undefined);
        return { path, importMs: mark.importMs };
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
    /** Builds in progress (tests and shutdown wait for them). */
    settled(): Promise<void> {
      return Promise.all(building.values()).then(() => undefined);
    },
  };
}

export type ModuleSnapshots = ReturnType<typeof createModuleSnapshots>;

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
