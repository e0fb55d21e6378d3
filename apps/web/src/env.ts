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
    KILN_HISTORY_IDLE_SECONDS: optional(seconds),
    KILN_HISTORY_INTERVAL_SECONDS: optional(seconds),
    KILN_SECRETS_KEY: optional(secretsKey),
    KILN_SECRETS_OLD_KEYS: optional(z.string()),
    KILN_SCHEDULE_INTERVAL_SECONDS: optional(seconds),
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
  kernelGatewayUrl: string | null;
  /** Set when both KERNEL_GATEWAY_URL and KILN_GATEWAY_TOKEN are; the web app only mints workspace-scoped tokens from the secret. */
  kernelGateway: { url: string; secret: string } | null;
  /** Automatic history: a version once edits pause this long, or after this long of steady editing. */
  history: { idleMs: number; intervalMs: number };
  /** The key secrets are encrypted under, and older keys rows may still be under (re-encrypted at start); null: no secrets. */
  secrets: { key: string; oldKeys: string[] } | null;
  /** How often each web process looks for due schedule ticks. */
  scheduleIntervalMs: number;
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
    kernelGatewayUrl: raw.KERNEL_GATEWAY_URL ?? null,
    kernelGateway:
      raw.KERNEL_GATEWAY_URL && raw.KILN_GATEWAY_TOKEN
        ? { url: raw.KERNEL_GATEWAY_URL, secret: raw.KILN_GATEWAY_TOKEN }
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
    scheduleIntervalMs: (raw.KILN_SCHEDULE_INTERVAL_SECONDS ?? 15) * 1000,
  };
}

let cached: Env | undefined;

/** The process environment, parsed on first use (not at import, so `next build` needs none of it). */
export function getEnv(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}
