import { describe, expect, it } from 'vitest';
import {
  checkpointArgs,
  describeRunscFeatures,
  nvproxyDriverProblem,
  parseRunscFeatures,
  type RunscProbeOutput,
} from './runsc-features.ts';

// Excerpts of what Debian's two runsc releases print (bookworm's 2022 one, bookworm-backports' 2024 one).
const help = `Subcommands:
\tcheckpoint       checkpoint current state of container (experimental)
\tcreate           create a secure container
\trestore          restore a saved state of container (experimental)
`;
const old: RunscProbeOutput = {
  version: 'runsc version 0.0~20221219.0\nspec: 1.0.2-dev\n',
  flags: `  -overlay2 value
    \twrap mounts with overlayfs.
  -platform string
    \tspecifies which platform to use: ptrace (default), kvm. (default "ptrace")
  -platform_device_path string
    \tpath to a platform-specific device file
`,
  help,
  checkpointHelp: `checkpoint [flags] <container id> - save current state of container.
  -image-path string
  -leave-running
  -work-path string
`,
  restoreHelp: `restore [flags] <container id> - restore saved state of container.
  -bundle string
  -detach
  -image-path string
`,
};
const current: RunscProbeOutput = {
  version: 'runsc version 0.0~20240729.0\nspec: 1.0.2-dev\n',
  flags: `  -nvproxy
    \tEXPERIMENTAL: enable support for Nvidia GPUs
  -nvproxy-docker docker run --gpus
  -platform string
    \tspecifies which platform to use: systrap (default), ptrace, kvm. (default "systrap")
`,
  help,
  checkpointHelp: `checkpoint [flags] <container id> - save current state of container.
  -compression value
    \tcompress checkpoint image on disk. Values: none|flate-best-speed. (default flate-best-speed)
  -direct
    \tuse O_DIRECT for writing checkpoint pages file
  -exclude-committed-zero-pages
    \texclude committed zero-filled pages from checkpoint
  -image-path string
`,
  // What \`runsc nvproxy list-supported-drivers\` prints on 0.0~20240729.0.
  nvproxyDrivers: '550.54.15\n535.104.12\n550.90.07\n535.104.05\n',
  restoreHelp: `restore [flags] <container id> - restore saved state of container.
  -detach
  -direct
    \tuse O_DIRECT for reading checkpoint pages file
  -image-path string
`,
};

describe('runsc feature detection', () => {
  it('keeps the 2022 release on ptrace without nvproxy or checkpoint options', () => {
    const features = parseRunscFeatures(old);
    expect(features).toEqual({
      version: '0.0~20221219.0',
      release: 20221219,
      platforms: ['ptrace', 'kvm'],
      platform: 'ptrace',
      nvproxy: false,
      nvproxyDrivers: undefined,
      checkpoint: true,
      checkpointCompression: false,
      checkpointDirect: false,
      excludeZeroPages: false,
    });
    expect(describeRunscFeatures(features)).toBe(
      'runsc 0.0~20221219.0 on ptrace (no nvproxy; checkpoints compressed)',
    );
  });

  it('runs the 2024 release on systrap with nvproxy and every checkpoint option', () => {
    const features = parseRunscFeatures(current);
    expect(features).toMatchObject({
      release: 20240729,
      platforms: ['systrap', 'ptrace', 'kvm'],
      platform: 'systrap',
      nvproxy: true,
      checkpointCompression: true,
      checkpointDirect: true,
      excludeZeroPages: true,
    });
    expect(describeRunscFeatures(features)).toBe(
      'runsc 0.0~20240729.0 on systrap (nvproxy; checkpoints uncompressed, direct I/O, zero pages excluded)',
    );
  });

  it('does not mistake --nvproxy-docker or --direct on checkpoint alone for the real features', () => {
    const features = parseRunscFeatures({
      ...old,
      flags: `${old.flags}  -nvproxy-docker docker run --gpus\n`,
      checkpointHelp: `${old.checkpointHelp}  -direct\n`,
    });
    expect(features.nvproxy).toBe(false);
    // Restoring needs --direct too; a checkpoint written with O_DIRECT alone gains nothing.
    expect(features.checkpointDirect).toBe(false);
  });

  it('honours a requested platform and refuses one this runsc lacks, naming what it offers', () => {
    expect(parseRunscFeatures(current, 'ptrace').platform).toBe('ptrace');
    expect(() => parseRunscFeatures(old, 'systrap')).toThrow(/no platform "systrap".*ptrace, kvm/);
  });

  it('reports no checkpoint options when checkpointing itself is missing', () => {
    const features = parseRunscFeatures({ ...current, help: '\tcreate  create a secure container\n' });
    expect(features).toMatchObject({
      checkpoint: false,
      checkpointCompression: false,
      excludeZeroPages: false,
    });
    expect(describeRunscFeatures(features)).toContain('no checkpoints');
  });

  it('survives output it does not understand (a future or broken runsc)', () => {
    const features = parseRunscFeatures({
      version: '',
      flags: '',
      help: '',
      checkpointHelp: '',
      restoreHelp: '',
    });
    expect(features).toMatchObject({
      version: 'unknown',
      release: undefined,
      platform: 'ptrace',
      nvproxy: false,
    });
  });
});

describe('nvproxy and the host driver', () => {
  it('refuses GPU sandboxes on a driver this nvproxy does not speak, naming the ones it does', () => {
    const features = parseRunscFeatures(current);
    expect(features.nvproxyDrivers).toEqual(['535.104.05', '535.104.12', '550.54.15', '550.90.07']);
    expect(nvproxyDriverProblem(features, '550.90.07')).toBeUndefined();
    expect(nvproxyDriverProblem(features, '570.86.15')).toBe(
      "the host's NVIDIA driver 570.86.15 is not one runsc 0.0~20240729.0's nvproxy supports (535.104.05, 535.104.12, 550.54.15, 550.90.07); install one of those drivers or a newer gVisor",
    );
    // The operator pinned the ABI: their call.
    expect(
      nvproxyDriverProblem(features, '570.86.15', ['--nvproxy-driver-version=550.90.07']),
    ).toBeUndefined();
  });

  it('does not refuse where runsc cannot list its drivers', () => {
    const features = parseRunscFeatures({
      ...current,
      nvproxyDrivers: 'Usage: runsc <flags> <subcommand>\n',
    });
    expect(features.nvproxyDrivers).toBeUndefined();
    expect(nvproxyDriverProblem(features, '570.86.15')).toBeUndefined();
  });
});

describe('checkpoint arguments', () => {
  it('checkpoints uncompressed, without zero pages and with direct I/O where runsc offers it', () => {
    expect(checkpointArgs(parseRunscFeatures(current))).toEqual({
      checkpoint: ['--compression=none', '--exclude-committed-zero-pages', '--direct'],
      restore: ['--direct'],
    });
    expect(checkpointArgs(parseRunscFeatures(current), { direct: false }).restore).toEqual([]);
  });

  it('passes no option the 2022 runsc would reject', () => {
    expect(checkpointArgs(parseRunscFeatures(old))).toEqual({ checkpoint: [], restore: [] });
  });
});
