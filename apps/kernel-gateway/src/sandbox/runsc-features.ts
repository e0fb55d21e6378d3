/** What the installed runsc can do, read from its own help output rather than assumed from a version. */
export interface RunscFeatures {
  /** As `runsc --version` prints it, e.g. `0.0~20240729.0`. */
  version: string;
  /** Release date as a number (20240729), when the version carries one. */
  release: number | undefined;
  /** Platforms `--platform` accepts, e.g. `['systrap', 'ptrace', 'kvm']`. */
  platforms: string[];
  /** The platform sandboxes run on: systrap where available (4-5 times faster syscalls than ptrace). */
  platform: string;
  /** GPU passthrough (`--nvproxy`). */
  nvproxy: boolean;
  /**
   * Host NVIDIA driver versions this runsc's nvproxy speaks (`runsc nvproxy list-supported-drivers`);
   * undefined where runsc cannot list them. Another driver makes every GPU sandbox fail to start.
   */
  nvproxyDrivers: string[] | undefined;
  /** `checkpoint` and `restore` subcommands exist. */
  checkpoint: boolean;
  /** `checkpoint --compression=none` exists (older releases always compress). */
  checkpointCompression: boolean;
  /** `checkpoint --direct` and `restore --direct` (O_DIRECT page files) exist. */
  checkpointDirect: boolean;
  /** `checkpoint --exclude-committed-zero-pages` exists. */
  excludeZeroPages: boolean;
}

/** Raw outputs of the runsc calls the probe makes. */
export interface RunscProbeOutput {
  version: string;
  flags: string;
  help: string;
  checkpointHelp: string;
  restoreHelp: string;
  /** `runsc nvproxy list-supported-drivers` (asked only where `--nvproxy` exists). */
  nvproxyDrivers?: string;
}

/** Platforms Kiln will pick on its own, best first; kvm hung on these machines, so only on request. */
const PREFERRED_PLATFORMS = ['systrap', 'ptrace'];

/** Reads a flag's presence in `runsc flags`/`runsc help <cmd>` output (flags are indented `  -name`). */
export function hasFlag(text: string, name: string): boolean {
  return new RegExp(`^\\s+-{1,2}${name}(?=[ \\t]|$)`, 'm').test(text);
}

/** Parses the probe's outputs; pure, so each runsc release's text can be tested. */
export function parseRunscFeatures(output: RunscProbeOutput, requestedPlatform?: string): RunscFeatures {
  const version =
    output.version
      .split('\n')[0]
      ?.replace(/^runsc version\s*/, '')
      .trim() || 'unknown';
  const date = /(20\d{6})/.exec(version)?.[1];
  // "-platform string\n    specifies which platform to use: systrap (default), ptrace, kvm."
  const platformHelp = /^\s+-platform\b[^\n]*\n([^\n]*)/m.exec(output.flags)?.[1] ?? '';
  const listed = /platform to use:\s*([^.]*)/.exec(platformHelp)?.[1] ?? '';
  const platforms = listed
    .split(',')
    .map((entry) => entry.replace(/\(default\)/, '').trim())
    .filter((entry) => /^[a-z]+$/.test(entry));
  if (platforms.length === 0) platforms.push('ptrace');
  let platform: string;
  if (requestedPlatform) {
    if (!platforms.includes(requestedPlatform))
      throw new Error(
        `runsc ${version} has no platform "${requestedPlatform}" (it offers: ${platforms.join(', ')})`,
      );
    platform = requestedPlatform;
  } else {
    platform = PREFERRED_PLATFORMS.find((name) => platforms.includes(name)) ?? platforms[0] ?? 'ptrace';
  }
  const checkpoint = /^\s+checkpoint\b/m.test(output.help) && /^\s+restore\b/m.test(output.help);
  return {
    version,
    release: date ? Number(date) : undefined,
    platforms,
    platform,
    nvproxy: hasFlag(output.flags, 'nvproxy'),
    nvproxyDrivers: parseDriverList(output.nvproxyDrivers),
    checkpoint,
    checkpointCompression: checkpoint && hasFlag(output.checkpointHelp, 'compression'),
    checkpointDirect:
      checkpoint && hasFlag(output.checkpointHelp, 'direct') && hasFlag(output.restoreHelp, 'direct'),
    excludeZeroPages: checkpoint && hasFlag(output.checkpointHelp, 'exclude-committed-zero-pages'),
  };
}

/** One driver version a line (`550.90.07`); anything else (usage text of a runsc without the command) is no list. */
function parseDriverList(text: string | undefined): string[] | undefined {
  const versions = (text ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^\d+\.\d+(\.\d+)?$/.test(line));
  // runsc prints them in Go map order, which changes from one call to the next: sort by version so
  // the cached and the fresh probe, and every start line, agree.
  versions.sort((a, b) => compareVersions(a, b));
  return versions.length > 0 ? versions : undefined;
}

function compareVersions(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Why GPU sandboxes cannot start with this host driver, or undefined when they can (or it cannot be
 * told): runsc 20240729's nvproxy speaks 535.x and 550.54-550.90 only and refuses any other driver at
 * sandbox start. An operator who passes `--nvproxy-driver-version` chose the ABI themselves.
 */
export function nvproxyDriverProblem(
  features: RunscFeatures,
  hostDriver: string,
  runscFlags: string[] = [],
): string | undefined {
  if (!features.nvproxyDrivers || runscFlags.some((flag) => /^--?nvproxy-driver-version\b/.test(flag)))
    return undefined;
  if (features.nvproxyDrivers.includes(hostDriver)) return undefined;
  return `the host's NVIDIA driver ${hostDriver} is not one runsc ${features.version}'s nvproxy supports (${features.nvproxyDrivers.join(', ')}); install one of those drivers or a newer gVisor`;
}

/** One line for the gateway's start message, e.g. `runsc 0.0~20240729.0 on systrap (nvproxy, …)`. */
export function describeRunscFeatures(features: RunscFeatures): string {
  const extras: string[] = [];
  extras.push(features.nvproxy ? 'nvproxy' : 'no nvproxy');
  if (!features.checkpoint) extras.push('no checkpoints');
  else {
    const options = [
      features.checkpointCompression && 'uncompressed',
      features.checkpointDirect && 'direct I/O',
      features.excludeZeroPages && 'zero pages excluded',
    ].filter(Boolean);
    extras.push(`checkpoints${options.length ? ` ${options.join(', ')}` : ' compressed'}`);
  }
  return `runsc ${features.version} on ${features.platform} (${extras.join('; ')})`;
}

/** Extra arguments for `runsc checkpoint` and `runsc restore` on this runsc. */
export interface CheckpointArgs {
  checkpoint: string[];
  restore: string[];
}

/**
 * Checkpoint options in use. Measured on two loaded cores with a numpy/pandas/matplotlib kernel:
 * deflating was most of the work, checkpoint 5.6-6.2 s compressed against 0.5-0.7 s uncompressed,
 * restore to the agent's hello 2.5-3.2 s against 0.7-1.1 s; the image grows from 27 to 99 MB. Zero pages
 * are left out, and O_DIRECT (checkpoint and restore) was as fast or faster without filling the page cache.
 */
export function checkpointArgs(features: RunscFeatures, options: { direct?: boolean } = {}): CheckpointArgs {
  const checkpoint: string[] = [];
  const restore: string[] = [];
  if (features.checkpointCompression) checkpoint.push('--compression=none');
  if (features.excludeZeroPages) checkpoint.push('--exclude-committed-zero-pages');
  if ((options.direct ?? true) && features.checkpointDirect) {
    checkpoint.push('--direct');
    restore.push('--direct');
  }
  return { checkpoint, restore };
}
