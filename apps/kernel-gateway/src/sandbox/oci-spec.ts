import type { ResourceRequest } from './types.ts';

/** Where a sandbox's host-side pieces live. */
export interface SandboxPaths {
  imageDir: string;
  agentDir: string;
  /** Host dir bind-mounted at /opt/kiln/channel; the gateway listens on agent.sock there. */
  channelDir: string;
  /** Host dir bind-mounted read-write at /workspace. */
  volumeDir: string;
  /**
   * Host dir bind-mounted at /vol, in every sandbox (the snapshot template's included): named volumes
   * are bound into it on the host, before a restore or after a warm spare is taken (volume-mounts.ts).
   */
  volRoot: string;
}

export interface OciSpecOptions {
  paths: SandboxPaths;
  resources: ResourceRequest;
  env: Record<string, string>;
  /** cgroup path (v1 hierarchy) the sandbox is placed in, so OOM kills can be told apart afterwards. */
  cgroupsPath: string;
  args: string[];
  uid: number;
}

/** Kernels run as this uid/gid; the image's /etc/passwd names it `kiln`. */
export const SANDBOX_UID = 1000;
export const PIDS_LIMIT = 512;
export const CPU_PERIOD_US = 100_000;
/** /tmp's size in every sandbox (fixed: a restored sandbox keeps the snapshot's tmpfs). */
export const TMP_SIZE_MIB = 512;

/**
 * Where startup files are looked for: never on the shared /workspace volume, where any member (or
 * a removed one) could plant a .bash_profile, usercustomize.py, a .pth file or an IPython startup
 * script that then runs as everyone who opens a terminal or starts a kernel. HOME is on the
 * sandbox's own tmpfs; user site-packages are off (set PYTHONNOUSERSITE= in a cell's env to opt in).
 */
export const STARTUP_ENV: Readonly<Record<string, string>> = {
  HOME: '/tmp/home',
  PYTHONNOUSERSITE: '1',
  PYTHONUSERBASE: '/tmp/home/.local',
  IPYTHONDIR: '/tmp/home/.ipython',
  JUPYTER_CONFIG_DIR: '/tmp/home/.jupyter',
  JUPYTER_DATA_DIR: '/tmp/home/.local/share/jupyter',
};

/**
 * Environment of every sandbox's agent, the snapshot template's included (so part of the snapshot key:
 * a restored process keeps the env, and the malloc settings, it booted with).
 */
export const BASE_ENV: Readonly<Record<string, string>> = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  ...STARTUP_ENV,
  LANG: 'C.UTF-8',
  TERM: 'xterm-256color',
  MPLCONFIGDIR: '/tmp/.matplotlib',
  PYTHONDONTWRITEBYTECODE: '1',
  // debugpy, if user code imports it, warns about frozen modules otherwise.
  PYDEVD_DISABLE_FILE_VALIDATION: '1',
};

/** Builds the OCI runtime spec (config.json) for one kernel sandbox. */
export function buildOciSpec(options: OciSpecOptions): Record<string, unknown> {
  const { paths, resources, uid } = options;
  const memoryBytes = resources.memoryMiB * 1024 * 1024;
  const env = { ...BASE_ENV, ...options.env };
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid, gid: uid },
      args: options.args,
      env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
      cwd: '/workspace',
      capabilities: { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] },
      rlimits: [
        { type: 'RLIMIT_NOFILE', hard: 4096, soft: 4096 },
        { type: 'RLIMIT_NPROC', hard: PIDS_LIMIT, soft: PIDS_LIMIT },
      ],
      noNewPrivileges: true,
    },
    root: { path: paths.imageDir, readonly: true },
    hostname: 'kiln',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      {
        destination: '/dev',
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
      },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'],
      },
      {
        destination: '/dev/shm',
        type: 'tmpfs',
        source: 'shm',
        options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
      },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      // Sized so a full /tmp answers ENOSPC before it costs the kernel its memory (tmpfs lives in it).
      {
        destination: '/tmp',
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'nodev', 'mode=1777', `size=${TMP_SIZE_MIB}m`],
      },
      { destination: '/workspace', type: 'bind', source: paths.volumeDir, options: ['rbind', 'rw'] },
      // One sentry mount for every volume: the host's binds below it (and their read-only flags) decide
      // what is there. nosuid and nodev so a file planted on a volume gains no power.
      {
        destination: '/vol',
        type: 'bind',
        source: paths.volRoot,
        options: ['rbind', 'nosuid', 'nodev', 'rw'],
      },
      { destination: '/opt/kiln/agent', type: 'bind', source: paths.agentDir, options: ['rbind', 'ro'] },
      { destination: '/opt/kiln/channel', type: 'bind', source: paths.channelDir, options: ['rbind', 'rw'] },
    ],
    linux: {
      cgroupsPath: options.cgroupsPath,
      resources: {
        memory: { limit: memoryBytes },
        // No CPU quota while the sandbox starts: restoring a checkpoint decompresses its memory on
        // every core (0.8 s on two cores, 1.4 s under a one-core quota). No user code runs before the
        // agent's hello, and the container applies the kernel's quota then (RunscContainer.limitCpu).
        cpu: { period: CPU_PERIOD_US },
        pids: { limit: PIDS_LIMIT },
      },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/sys/firmware'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}
