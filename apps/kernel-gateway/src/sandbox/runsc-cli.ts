import { type ChildProcess, execFile, type SpawnOptions, spawn } from 'node:child_process';
import type { CheckpointArgs } from './runsc-features.ts';

/** Invokes runsc with the same global flags on every call, as runsc requires for one container. */
export interface RunscCli {
  readonly path: string;
  readonly globalFlags: string[];
  /** `runsc --version` of this binary; checkpoints record it, restores refuse another's images. */
  readonly version: string;
  readonly checkpointArgs: CheckpointArgs;
  run(args: string[], options?: { timeoutMs?: number }): Promise<string>;
  spawn(args: string[], options?: SpawnOptions): ChildProcess;
}

export interface RunscCliOptions {
  runscPath: string;
  /** runsc state directory (`--root`). */
  root: string;
  /** `systrap` on runsc releases that have it (see runsc-features.ts), else `ptrace`. */
  platform: string;
  version?: string;
  checkpointArgs?: CheckpointArgs;
  extraFlags?: string[];
}

/** Creates the runsc invoker; networking is always off and only host unix sockets may be opened. */
export function createRunscCli(options: RunscCliOptions): RunscCli {
  const globalFlags = [
    `--root=${options.root}`,
    '--network=none',
    `--platform=${options.platform}`,
    // The agent connects to the gateway's unix socket in its bind-mounted channel dir; "open" allows
    // connecting to existing host sockets only, never creating or listening on them, and only to those
    // under the sandbox's own mounts: a host socket elsewhere (Postgres's) has no path inside it
    // (sandbox-isolation.int.test.ts). A socket fd passed in at start would not do: the agent
    // reconnects by path after every checkpoint/restore and to a restarted gateway that re-adopts it.
    '--host-uds=open',
    ...(options.extraFlags ?? []),
  ];
  return {
    path: options.runscPath,
    globalFlags,
    version: options.version ?? 'unknown',
    checkpointArgs: options.checkpointArgs ?? { checkpoint: [], restore: [] },
    run(args, runOptions = {}) {
      return new Promise((resolve, reject) => {
        execFile(
          options.runscPath,
          [...globalFlags, ...args],
          { timeout: runOptions.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024 },
          (error, stdout, stderr) => {
            if (error) {
              const detail = String(stderr).trim().split('\n').slice(-3).join(' | ');
              reject(new Error(`runsc ${args[0]} failed: ${detail || error.message}`));
            } else resolve(String(stdout));
          },
        );
      });
    },
    spawn(args, spawnOptions = {}) {
      return spawn(options.runscPath, [...globalFlags, ...args], spawnOptions);
    },
  };
}
