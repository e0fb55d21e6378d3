import { closeSync, openSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CPU_PERIOD_US } from './oci-spec.ts';
import type { RunscCli } from './runsc-cli.ts';

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
  private exitWatch: Promise<ContainerExit> | undefined;

  constructor(
    readonly cli: RunscCli,
    readonly id: string,
    readonly runDir: string,
    readonly cgroupsPath: string,
  ) {
    this.bundleDir = join(runDir, 'bundle');
    this.logPath = join(runDir, 'container.log');
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
  async restore(imagePath: string): Promise<void> {
    await this.detached([
      'restore',
      '--detach',
      `--image-path=${imagePath}`,
      `--bundle=${this.bundleDir}`,
      this.id,
    ]);
  }

  private async detached(args: string[]): Promise<void> {
    // The container keeps runsc's stdio, so it gets the log file and never a pipe that could fill up.
    const log = openSync(this.logPath, 'a');
    try {
      await new Promise<void>((resolve, reject) => {
        const child = this.cli.spawn(args, { stdio: ['ignore', log, log] });
        child.once('error', reject);
        child.once('exit', (code) =>
          code === 0
            ? resolve()
            : reject(new Error(`runsc ${args[0]} exited with ${code}: ${this.tailSync()}`)),
        );
      });
    } finally {
      closeSync(log);
    }
    this.exitWatch = undefined;
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
  async checkpoint(imagePath: string): Promise<void> {
    await mkdir(imagePath, { recursive: true, mode: 0o700 });
    // mkdir leaves an existing folder's mode alone.
    await chmod(imagePath, 0o700);
    await this.cli.run(['checkpoint', `--image-path=${imagePath}`, this.id], { timeoutMs: 60_000 });
  }

  async kill(signal: string, all = false): Promise<void> {
    await this.cli.run(['kill', ...(all ? ['--all'] : []), this.id, signal]);
  }

  /** Stops and removes the container; safe to call on one that is already gone. */
  async destroy(): Promise<void> {
    await this.cli.run(['delete', '--force', this.id], { timeoutMs: 30_000 }).catch(() => undefined);
  }

  async removeFiles(): Promise<void> {
    await rm(this.runDir, { recursive: true, force: true });
  }
}
