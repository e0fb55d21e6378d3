import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { z } from 'zod';

/** Thrown when the environment is missing or has a bad variable; the message names each one. */
export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'EnvError';
  }
}

// `.env` files and shells often leave variables set to '' when they mean "unset".
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess(
    (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
    schema.optional(),
  );

const httpUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
  .transform((url) => url.replace(/\/+$/, ''));

const seconds = z.coerce.number({ error: 'must be a number of seconds' }).positive('must be positive');

// 32 bytes as base64 (what `npm start` generates into .kiln/secrets.key) or 64 hex digits.
const secretsKey = z.string().refine((value) => {
  const trimmed = value.trim();
  return /^[0-9a-fA-F]{64}$/.test(trimmed) || Buffer.from(trimmed, 'base64').length === 32;
}, 'must be 32 bytes as base64 or 64 hex digits');

const schema = z
  .object({
    DATABASE_URL: z
      .string({ error: 'is required (a postgres:// URL)' })
      .regex(/^postgres(ql)?:\/\/.+/, 'must be a postgres:// or postgresql:// URL'),
    PORT: optional(
      z.coerce
        .number({ error: 'must be a number' })
        .int('must be an integer')
        .min(0)
        .max(65535, 'must be a port number'),
    ),
    HOST: optional(z.string()),
    APP_URL: optional(httpUrl),
    TRUST_PROXY: optional(z.enum(['true', 'false', '1', '0'], { error: 'must be true or false' })),
    GITHUB_CLIENT_ID: optional(z.string()),
    GITHUB_CLIENT_SECRET: optional(z.string()),
    SMTP_URL: optional(z.url({ protocol: /^smtps?$/, error: 'must be an smtp:// or smtps:// URL' })),
    MAIL_FROM: optional(z.string()),
    KERNEL_GATEWAY_URL: optional(httpUrl),
    KILN_GATEWAY_TOKEN: optional(z.string().min(16, 'must be at least 16 characters')),
    KILN_QUEUE_TIMEOUT_SECONDS: optional(seconds),
    KILN_NODE_TIMEOUT_SECONDS: optional(seconds),
    KILN_LOST_KERNEL_GIVE_UP_SECONDS: optional(seconds),
    KILN_MAX_KERNEL_CPU: optional(
      z.coerce.number({ error: 'must be a number' }).positive('must be positive'),
    ),
    KILN_MAX_KERNEL_MEMORY_MIB: optional(
      z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(128),
    ),
    KILN_ENTERPRISE_MAX_CONTAINERS: optional(z.coerce.number().int().positive('must be positive')),
    KILN_ENTERPRISE_MAX_GPUS: optional(z.coerce.number().int().min(0)),
    KILN_HISTORY_IDLE_SECONDS: optional(seconds),
    KILN_HISTORY_INTERVAL_SECONDS: optional(seconds),
    KILN_SECRETS_KEY: optional(secretsKey),
    KILN_SECRETS_OLD_KEYS: optional(z.string()),
    STRIPE_SECRET_KEY: optional(
      z.string().regex(/^(sk|rk)_(test|live)_\w+$/, 'must be a Stripe secret key (sk_test_...)'),
    ),
    STRIPE_WEBHOOK_SECRET: optional(
      z.string().regex(/^whsec_\w+$/, 'must be a webhook signing secret (whsec_...)'),
    ),
    STRIPE_API_URL: optional(httpUrl),
    KILN_SCHEDULE_INTERVAL_SECONDS: optional(seconds),
    KILN_SIGN_UP: optional(z.enum(['invite', 'open', 'verify'], { error: 'must be invite, open or verify' })),
    KILN_WEB_PROCESS_ID: optional(
      z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/, 'must be 1-100 letters, digits, ".", "_", ":" or "-"'),
    ),
    KILN_RUNSC_PATH: optional(z.string()),
    KILN_CAPTURE_DIR: optional(z.string()),
    KILN_ENDPOINT_MAX_BODY_BYTES: optional(
      z.coerce
        .number({ error: 'must be a number of bytes' })
        .int('must be a whole number')
        .min(1024, 'must be at least 1024'),
    ),
  })
  .superRefine((env, ctx) => {
    if (Boolean(env.GITHUB_CLIENT_ID) !== Boolean(env.GITHUB_CLIENT_SECRET)) {
      const missing = env.GITHUB_CLIENT_ID ? 'GITHUB_CLIENT_SECRET' : 'GITHUB_CLIENT_ID';
      ctx.addIssue({
        code: 'custom',
        path: [missing],
        message: 'must be set together with the other GITHUB_CLIENT_* variable (set both or neither)',
      });
    }
    if (env.KILN_SECRETS_OLD_KEYS && !env.KILN_SECRETS_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['KILN_SECRETS_KEY'],
        message: 'is required when KILN_SECRETS_OLD_KEYS is set',
      });
    }
    for (const old of env.KILN_SECRETS_OLD_KEYS?.split(',') ?? []) {
      if (!secretsKey.safeParse(old).success) {
        ctx.addIssue({
          code: 'custom',
          path: ['KILN_SECRETS_OLD_KEYS'],
          message: 'must be comma-separated keys of 32 bytes as base64 or 64 hex digits',
        });
        break;
      }
    }
    if (env.STRIPE_SECRET_KEY && !env.STRIPE_WEBHOOK_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['STRIPE_WEBHOOK_SECRET'],
        message: 'is required when STRIPE_SECRET_KEY is set',
      });
    }
    if (env.STRIPE_SECRET_KEY && env.STRIPE_API_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['STRIPE_API_URL'],
        message: 'is only for the local Stripe server; unset it when STRIPE_SECRET_KEY is set',
      });
    }
    if (env.KILN_SIGN_UP === 'verify' && !env.SMTP_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['KILN_SIGN_UP'],
        message: 'verify mails a confirmation link, so it needs SMTP_URL and MAIL_FROM',
      });
    }
    if (env.SMTP_URL && !env.MAIL_FROM) {
      ctx.addIssue({ code: 'custom', path: ['MAIL_FROM'], message: 'is required when SMTP_URL is set' });
    }
  });

/** The web app's validated configuration. */
export interface Env {
  databaseUrl: string;
  port: number;
  host: string;
  appUrl: string;
  /** Cookies get `Secure` when the public URL is https. */
  secureCookies: boolean;
  trustProxy: boolean;
  github: { clientId: string; clientSecret: string } | null;
  smtp: { url: string; from: string } | null;
  /**
   * Who may sign up with a password: invited addresses (and the first account), anyone after
   * confirming their address by email (the default with SMTP), or anyone at once.
   */
  signUp: 'invite' | 'open' | 'verify';
  kernelGatewayUrl: string | null;
  /**
   * Set when KILN_GATEWAY_TOKEN is: kernels are placed by the scheduler on the gateways registered as
   * nodes (KERNEL_GATEWAY_URL is no longer needed); the web app only mints workspace-scoped tokens.
   */
  kernelGateway: { url: string | null; secret: string } | null;
  /** Automatic history: a version once edits pause this long, or after this long of steady editing. */
  history: { idleMs: number; intervalMs: number };
  /** The key secrets are encrypted under, and older keys rows may still be under (re-encrypted at start); null: no secrets. */
  secrets: { key: string; oldKeys: string[] } | null;
  /** The scheduler's settings: the operator's maximums and Enterprise limits, and its timeouts. */
  scheduler: {
    queueTimeoutMs: number;
    heartbeatTimeoutMs: number;
    /** A kernel lost with its node waits this long for the node to come back with it, then is given up. */
    lostGiveUpMs: number;
    maxCpuPerContainer: number;
    maxMemoryMiBPerContainer: number;
    enterprise: { maxContainers: number | null; gpuConcurrency: number | null };
  };
  /** Stripe test/live mode with a secret key; without one, Kiln's local Stripe server at `localUrl`. */
  stripe: { secretKey: string | null; webhookSecret: string; localUrl: string };
  /** How often each web process looks for due schedule ticks. */
  scheduleIntervalMs: number;
  /**
   * This web process's id for the kernels it drives (its lease in Postgres): stable across its restarts so
   * they keep their kernels, distinct among processes sharing a database. Default: host and port.
   */
  webProcessId: string;
  /**
   * Web endpoints: runsc for dependency capture's throwaway sandboxes (their state under `captureDir`),
   * and the largest request body a call may send.
   */
  endpoints: { runscPath: string; captureDir: string; maxBodyBytes: number };
}

/** Validates `source` (normally `process.env`); throws EnvError naming every bad variable. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = schema.safeParse(source);
  if (!result.success) {
    throw new EnvError(result.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`));
  }
  const raw = result.data;
  const port = raw.PORT ?? 3000;
  const appUrl = raw.APP_URL ?? `http://localhost:${port}`;
  return {
    databaseUrl: raw.DATABASE_URL,
    port,
    host: raw.HOST ?? '127.0.0.1',
    appUrl,
    secureCookies: appUrl.startsWith('https:'),
    trustProxy: raw.TRUST_PROXY === 'true' || raw.TRUST_PROXY === '1',
    github:
      raw.GITHUB_CLIENT_ID && raw.GITHUB_CLIENT_SECRET
        ? { clientId: raw.GITHUB_CLIENT_ID, clientSecret: raw.GITHUB_CLIENT_SECRET }
        : null,
    smtp: raw.SMTP_URL && raw.MAIL_FROM ? { url: raw.SMTP_URL, from: raw.MAIL_FROM } : null,
    signUp: raw.KILN_SIGN_UP ?? (raw.SMTP_URL && raw.MAIL_FROM ? 'verify' : 'invite'),
    kernelGatewayUrl: raw.KERNEL_GATEWAY_URL ?? null,
    kernelGateway: raw.KILN_GATEWAY_TOKEN
      ? { url: raw.KERNEL_GATEWAY_URL ?? null, secret: raw.KILN_GATEWAY_TOKEN }
      : null,
    history: {
      idleMs: (raw.KILN_HISTORY_IDLE_SECONDS ?? 120) * 1000,
      intervalMs: (raw.KILN_HISTORY_INTERVAL_SECONDS ?? 600) * 1000,
    },
    secrets: raw.KILN_SECRETS_KEY
      ? {
          key: raw.KILN_SECRETS_KEY,
          oldKeys: (raw.KILN_SECRETS_OLD_KEYS ?? '')
            .split(',')
            .map((key) => key.trim())
            .filter(Boolean),
        }
      : null,
    scheduler: {
      queueTimeoutMs: (raw.KILN_QUEUE_TIMEOUT_SECONDS ?? 900) * 1000,
      heartbeatTimeoutMs: (raw.KILN_NODE_TIMEOUT_SECONDS ?? 30) * 1000,
      lostGiveUpMs: (raw.KILN_LOST_KERNEL_GIVE_UP_SECONDS ?? 900) * 1000,
      maxCpuPerContainer: raw.KILN_MAX_KERNEL_CPU ?? 64,
      maxMemoryMiBPerContainer: raw.KILN_MAX_KERNEL_MEMORY_MIB ?? 256 * 1024,
      enterprise: {
        maxContainers: raw.KILN_ENTERPRISE_MAX_CONTAINERS ?? null,
        gpuConcurrency: raw.KILN_ENTERPRISE_MAX_GPUS ?? null,
      },
    },
    stripe: {
      secretKey: raw.STRIPE_SECRET_KEY ?? null,
      // The local server signs with whatever it is given; this default matches `npm start`'s.
      webhookSecret: raw.STRIPE_WEBHOOK_SECRET ?? 'whsec_kiln_local_development',
      localUrl: raw.STRIPE_API_URL ?? 'http://127.0.0.1:12111',
    },
    scheduleIntervalMs: (raw.KILN_SCHEDULE_INTERVAL_SECONDS ?? 15) * 1000,
    // Port 0 names no process: such a one gets an id of its own (its kernels go to whoever outlives it).
    webProcessId: raw.KILN_WEB_PROCESS_ID ?? `${hostname()}:${port === 0 ? randomUUID().slice(0, 8) : port}`,
    endpoints: {
      runscPath: raw.KILN_RUNSC_PATH ?? 'runsc',
      captureDir: raw.KILN_CAPTURE_DIR ?? '.kiln/capture',
      maxBodyBytes: raw.KILN_ENDPOINT_MAX_BODY_BYTES ?? 1024 * 1024,
    },
  };
}

let cached: Env | undefined;

/** The process environment, parsed on first use (not at import, so `next build` needs none of it). */
export function getEnv(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}
