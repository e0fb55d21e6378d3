import { z } from 'zod';

const int = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);
const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true' || value === '1');

const schema = z.object({
  PORT: int(8888, 0).pipe(z.number().max(65535)),
  HOST: z.string().min(1).default('127.0.0.1'),
  KILN_GATEWAY_TOKEN: z
    .string({ error: 'is required (the admin secret; also signs workspace tokens)' })
    .min(16, {
      error: 'must be at least 16 characters',
    }),
  KILN_STATE_DIR: z.string().min(1).default('.kiln/gateway'),
  KILN_IMAGE_DIR: z.string().min(1).optional(),
  KILN_RUNSC_PATH: z.string().min(1).default('runsc'),
  /** Overrides the platform picked from what runsc offers (systrap, else ptrace). */
  KILN_RUNSC_PLATFORM: z.enum(['systrap', 'ptrace', 'kvm']).optional(),
  KILN_MAX_KERNELS_PER_WORKSPACE: int(100, 1),
  KILN_MAX_KERNEL_CPU: z.coerce.number().positive().optional(),
  KILN_MAX_KERNEL_MEMORY_MIB: z.coerce.number().int().min(128).optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/.+/, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  KILN_NODE_ID: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/, 'must be 1-100 letters, digits, ".", "_", ":" or "-"')
    .optional(),
  KILN_NODE_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  KILN_NODE_CPU: z.coerce.number().positive().optional(),
  KILN_NODE_MEMORY_MIB: z.coerce.number().int().min(128).optional(),
  KILN_GPUS: z
    .string()
    .regex(
      /^(none|[A-Za-z0-9-]+:[1-9][0-9]?(,[A-Za-z0-9-]+:[1-9][0-9]?)*)$/,
      'must be "none" or a declared inventory like "T4:2,H100:1"',
    )
    .optional(),
  KILN_HEARTBEAT_SECONDS: z.coerce.number().positive().default(5),
  KILN_WARM_POOL_SIZE: int(1, 0),
  KILN_WARM_POOL_PER_WORKSPACE: int(1, 1),
  KILN_SNAPSHOTS: bool(true),
  KILN_CULL_IDLE_SECONDS: int(3600, 0),
  KILN_CULL_INTERVAL_SECONDS: int(60, 1),
  KILN_CULL_CONNECTED: bool(false),
  KILN_HIBERNATE_IDLE_SECONDS: int(600, 0),
  KILN_KERNEL_CPU: z.coerce.number().positive().default(1),
  KILN_KERNEL_MEMORY_MIB: int(2048, 128),
  /**
   * Modules every kernel has imported before it is offered (they are in the snapshot): comma list, empty
   * for none. Measured per idle kernel: ~111 MiB charged with the default, ~65 MiB with none, but a
   * first `import pandas` then takes seconds instead of milliseconds.
   */
  KILN_KERNEL_PRELOAD: z
    .string()
    .regex(/^[A-Za-z0-9_.,]*$/, { error: 'must be a comma-separated list of module names' })
    .default('numpy,pandas,matplotlib')
    .transform((value) => value.split(',').filter(Boolean)),
  /** Operator maximum of a workspace's /workspace disk (an ext4 image per workspace); 0 = no quota. */
  KILN_MAX_DISK_MIB: int(10_240, 0),
  /** Operator maximum of one named volume (its plan's size is capped by it); with KILN_MAX_DISK_MIB=0, no quota. */
  KILN_MAX_VOLUME_MIB: int(102_400, 16),
  /**
   * The Python package index (PEP 503 "simple" URL) workspace images install pip packages from; unset:
   * images may add Debian packages only. Debian packages come from this machine's own apt sources.
   */
  KILN_PIP_INDEX_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL of a package index' })
    .optional(),
  /** Where built workspace images live; default: beside the base image (same disk, so files are shared). */
  KILN_WORKSPACE_IMAGES_DIR: z.string().min(1).optional(),
  /** An image build running longer is killed and fails. */
  KILN_IMAGE_BUILD_TIMEOUT_SECONDS: int(1200, 10),
  /** Build output kept per build (past it only the last 16 KiB). */
  KILN_IMAGE_BUILD_LOG_KIB: int(1024, 16),
  /** Memory-backed folder where a hibernation image is in clear while runsc writes or reads it. */
  KILN_HIBERNATION_SCRATCH_DIR: z.string().min(1).optional(),
  KILN_OUTPUT_BUFFER_MIB: int(10, 1),
  KILN_MAX_MESSAGE_MIB: int(10, 1),
  KILN_KERNEL_INFO_TIMEOUT_SECONDS: int(60, 1),
  /** How long a kernel re-adopted after a gateway restart may take to reconnect before it is stopped. */
  KILN_ADOPTION_TIMEOUT_SECONDS: int(120, 1),
});

/** The gateway's validated configuration. */
export type GatewayEnv = z.infer<typeof schema>;

/** Parses the environment once; a bad or missing variable throws a message naming it. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): GatewayEnv {
  const parsed = schema.safeParse(source);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
  throw new Error(`Invalid kernel gateway configuration:\n${lines.join('\n')}`);
}
