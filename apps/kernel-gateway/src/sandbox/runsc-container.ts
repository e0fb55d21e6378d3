import { closeSync } from 'node:fs';
import { appendFile, chmod, mkdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ContainerOutput } from './container-output.ts';
import { CPU_PERIOD_US } from './oci-spec.ts';
import type { RunscCli } from './runsc-cli.ts';
import type { CheckpointArgs } from './runsc-features.ts';
import { removeRunDir } from './volume-mounts.ts';

/**
 * Most bytes container.log (the sandbox's own stdout/stderr on the host, masked) may hold. A process in
 * the sandbox can write there on purpose (PID 1's fds); past this it starts over so the disk never fills.
 */
export const CONTAINER_LOG_MAX_BYTES = 4 * 1024 * 1024;
const LOG_CHECK_MS = 500;

/** Written next to a checkpoint image: which runsc wrote it. */
const CHECKPOINT_META = 'kiln-checkpoint.json';

async function readCheckpointVersion(imagePath: string): Promise<string | undefined> {
  try {
    const meta = JSON.parse(await readFile(join(imagePath, CHECKPOINT_META), 'utf8')) as {
      runscVersion?: unknown;
    };
    return typeof meta.runscVersion === 'string' ? meta.runscVersion : undefined;
  } catch {
    return undefined;
  }
}

/** How a container's root process ended, as `runsc wait` reports it. */
export interface ContainerExit {
  /** Exit code, or 128+signal for a process killed by a signal. */
  status: number | null;
  /** True when the memory cgroup recorded an OOM kill or hit its limit. */
  memoryLimitHit: boolean;
  /** True when the pids cgroup refused a new task (a fork bomb takes the sandbox down with it). */
  pidsLimitHit: boolean;
  /** The last lines the container wrote to stdout/stderr (agent crashes land here). */
  logTail: string;
}

/** One runsc container: its bundle, its process, and the runsc calls that act on it. */
export class RunscContainer {
  readonly bundleDir: string;
  readonly logPath: string;
  private readonly output: ContainerOutput;
  private exitWatch: Promise<ContainerExit> | undefined;
  private logGuard: NodeJS.Timeout | undefined;

  constructor(
    readonly cli: RunscCli,
    readonly id: string,
    readonly runDir: string,
    readonly cgroupsPath: string,
  ) {
    this.bundleDir = join(runDir, 'bundle');
    this.logPath = join(runDir, 'container.log');
    this.output = new ContainerOutput(join(runDir, 'container.out'), this.logPath, CONTAINER_LOG_MAX_BYTES);
  }

  /** The kernel's env: its values are masked in container.log from now on. */
  learnSecrets(env: Record<string, string>): void {
    this.output.learn(env);
  }

  async writeBundle(spec: Record<string, unknown>): Promise<void> {
    await mkdir(this.bundleDir, { recursive: true });
    await writeFile(join(this.bundleDir, 'config.json'), JSON.stringify(spec));
  }

  /** Boots a fresh container from the bundle (`runsc run --detach`). */
  async run(): Promise<void> {
    await this.detached(['run', '--detach', `--bundle=${this.bundleDir}`, this.id]);
  }

  /** Restores a checkpoint into this container's bundle (`runsc restore --detach`). */
  async restore(imagePath: string, args: CheckpointArgs = this.cli.checkpointArgs): Promise<void> {
    const written = await readCheckpointVersion(imagePath);
    // A checkpoint is only readable by the runsc that wrote it; restoring another release's image
    // fails deep inside the sandbox, or worse, half-works.
    if (written !== this.cli.version)
      throw new Error(
        `checkpoint ${imagePath} was written by runsc ${written ?? '(unknown)'}; this is runsc ${this.cli.version}`,
      );
    await this.detached([
      'restore',
      ...args.restore,
      '--detach',
      `--image-path=${imagePath}`,
      `--bundle=${this.bundleDir}`,
      this.id,
    ]);
  }

  private async detached(args: string[]): Promise<void> {
    // The container keeps runsc's stdio: a FIFO this process reads and masks into container.log, never
    // the file itself (what the sandbox writes could hold a secret) nor a pipe that could break.
    const out = await this.output.openForSandbox();
    try {
      await new Promise<void>((resolve, reject) => {
        const child = this.cli.spawn(args, { stdio: ['ignore', out, out] });
        child.once('error', reject);
        child.once('exit', (code) =>
          code === 0
            ? resolve()
            : reject(new Error(`runsc ${args[0]} exited with ${code}: ${this.tailSync()}`)),
        );
      });
    } finally {
      closeSync(out);
    }
    this.exitWatch = undefined;
  }

  /**
   * Takes over a container a gateway process that died had started: true when runsc still runs it (its
   * log is then guarded again), false when it is gone or stopped.
   */
  async adopt(): Promise<boolean> {
    const state = await this.cli.run(['state', this.id]).catch(() => null);
    if (!state) return false;
    try {
      if ((JSON.parse(state) as { status?: unknown }).status !== 'running') return false;
    } catch {
      return false;
    }
    // Started by an older gateway that gave it container.log itself: keep that file bounded.
    if (!this.output.read()) this.guardLog();
    return true;
  }

  /** Keeps container.log under CONTAINER_LOG_MAX_BYTES; the sandbox appends, so truncating is safe. */
  private guardLog(): void {
    if (this.logGuard) return;
    this.logGuard = setInterval(() => {
      stat(this.logPath).then(
        (info) =>
          info.size > CONTAINER_LOG_MAX_BYTES
            ? truncate(this.logPath, 0).then(() =>
                appendFile(
                  this.logPath,
                  `[kiln] container output past ${CONTAINER_LOG_MAX_BYTES} bytes dropped\n`,
                ),
              )
            : undefined,
        () => undefined,
      );
    }, LOG_CHECK_MS);
    this.logGuard.unref();
  }

  private tailSync(): string {
    return '(see container.log)';
  }

  /** Resolves once the container's root process has exited (one `runsc wait` per run). */
  exited(): Promise<ContainerExit> {
    this.exitWatch ??= new Promise((resolve) => {
      const child = this.cli.spawn(['wait', this.id], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
      });
      child.on('exit', async () => {
        let status: number | null = null;
        try {
          status = (JSON.parse(out) as { exitStatus?: number }).exitStatus ?? null;
        } catch {
          status = null;
        }
        // The last lines (a crash's traceback) may still be on their way through the FIFO.
        await this.output.settled();
        resolve({
          status,
          memoryLimitHit: await this.memoryLimitHit(),
          pidsLimitHit: await this.pidsLimitHit(),
          logTail: await this.logTail(),
        });
      });
    });
    return this.exitWatch;
  }

  /** Reads the v1 memory cgroup: an OOM kill, or usage that reached the limit, means the limit killed it. */
  async memoryLimitHit(): Promise<boolean> {
    const dir = join('/sys/fs/cgroup/memory', this.cgroupsPath);
    try {
      const oom = await readFile(join(dir, 'memory.oom_control'), 'utf8');
      if (/oom_kill [1-9]/.test(oom) || /under_oom 1/.test(oom)) return true;
      const failcnt = Number((await readFile(join(dir, 'memory.failcnt'), 'utf8')).trim());
      return failcnt > 0;
    } catch {
      return false;
    }
  }

  /**
   * Puts the sandbox under its CPU quota (`cpu` cores). Sandboxes start without one so a restore
   * uses every core; this runs before any user code does, and again after every restore.
   */
  async limitCpu(cpu: number): Promise<void> {
    const quota = String(Math.max(1000, Math.round(cpu * CPU_PERIOD_US)));
    const v1 = join('/sys/fs/cgroup/cpu', this.cgroupsPath);
    try {
      await writeFile(join(v1, 'cpu.cfs_quota_us'), quota);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      // cgroup v2: one file holds quota and period.
      await writeFile(join('/sys/fs/cgroup', this.cgroupsPath, 'cpu.max'), `${quota} ${CPU_PERIOD_US}`);
    }
  }

  /** Bytes the sandbox's memory cgroup charges now (v1, else v2); 0 when it cannot be read. */
  async memoryUsageBytes(): Promise<number> {
    for (const file of [
      join('/sys/fs/cgroup/memory', this.cgroupsPath, 'memory.usage_in_bytes'),
      join('/sys/fs/cgroup', this.cgroupsPath, 'memory.current'),
    ]) {
      const value = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (value > 0) return value;
    }
    return 0;
  }

  async pidsLimitHit(): Promise<boolean> {
    try {
      const events = await readFile(join('/sys/fs/cgroup/pids', this.cgroupsPath, 'pids.events'), 'utf8');
      return /max [1-9]/.test(events);
    } catch {
      return false;
    }
  }

  async logTail(lines = 20): Promise<string> {
    try {
      return (await readFile(this.logPath, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** Checkpoints to `imagePath`, a folder only root may enter: the image is the kernel's memory, secrets included. */
  async checkpoint(imagePath: string, args: CheckpointArgs = this.cli.checkpointArgs): Promise<void> {
    // Images hold the kernel's memory, secrets included: root only.
    await mkdir(imagePath, { recursive: true, mode: 0o700 });
    await chmod(imagePath, 0o700);
    await this.cli.run(['checkpoint', ...args.checkpoint, `--image-path=${imagePath}`, this.id], {
      timeoutMs: 60_000,
    });
    await writeFile(join(imagePath, CHECKPOINT_META), JSON.stringify({ runscVersion: this.cli.version }), {
      mode: 0o600,
    });
  }

  async kill(signal: string, all = false): Promise<void> {
    await this.cli.run(['kill', ...(all ? ['--all'] : []), this.id, signal]);
  }

  /** Stops and removes the container; safe to call on one that is already gone. */
  async destroy(): Promise<void> {
    clearInterval(this.logGuard);
    this.logGuard = undefined;
    await this.cli.run(['delete', '--force', this.id], { timeoutMs: 30_000 }).catch(() => undefined);
    this.output.close();
  }

  /** Removes the run dir, unbinding the volumes in its /vol first (never deleting their files). */
  async removeFiles(): Promise<void> {
    await removeRunDir(this.runDir);
  }
}
