import { describe, expect, it } from 'vitest';
import { EnvError, parseEnv } from './env.ts';

const base = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/kiln' };

function problemsOf(source: Record<string, string | undefined>): string[] {
  try {
    parseEnv(source);
  } catch (error) {
    if (error instanceof EnvError) return error.problems;
    throw error;
  }
  throw new Error('expected parseEnv to throw');
}

describe('parseEnv', () => {
  it('applies defaults from a minimal environment', () => {
    const env = parseEnv(base);
    expect(env).toMatchObject({
      databaseUrl: base.DATABASE_URL,
      port: 3000,
      host: '127.0.0.1',
      appUrl: 'http://localhost:3000',
      secureCookies: false,
      github: null,
      smtp: null,
      signUp: 'invite',
      kernelGatewayUrl: null,
    });
    expect(parseEnv({ ...base, KILN_SIGN_UP: 'open' }).signUp).toBe('open');
    expect(problemsOf({ ...base, KILN_SIGN_UP: 'anyone' })[0]).toMatch(/^KILN_SIGN_UP /);
    expect(problemsOf({ ...base, KILN_SIGN_UP: 'verify' })[0]).toMatch(/^KILN_SIGN_UP .*SMTP_URL/);
    const smtp = { ...base, SMTP_URL: 'smtp://localhost:2525', MAIL_FROM: 'Kiln <k@x.io>' };
    expect(parseEnv(smtp).signUp).toBe('verify');
  });

  it('derives APP_URL from PORT and makes cookies secure behind https', () => {
    expect(parseEnv({ ...base, PORT: '8080' }).appUrl).toBe('http://localhost:8080');
    const env = parseEnv({ ...base, APP_URL: 'https://kiln.example.com/' });
    expect(env.appUrl).toBe('https://kiln.example.com');
    expect(env.secureCookies).toBe(true);
  });

  it('names a missing DATABASE_URL', () => {
    const problems = problemsOf({});
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^DATABASE_URL /);
  });

  it('treats empty strings as unset', () => {
    expect(problemsOf({ DATABASE_URL: '' })[0]).toMatch(/^DATABASE_URL /);
    expect(parseEnv({ ...base, PORT: '', GITHUB_CLIENT_ID: ' ', GITHUB_CLIENT_SECRET: '' }).port).toBe(3000);
  });

  it('names every bad variable at once', () => {
    const problems = problemsOf({
      DATABASE_URL: 'mysql://x',
      PORT: 'eighty',
      APP_URL: 'ftp://example.com',
    });
    expect(problems.map((p) => p.split(' ')[0]).sort()).toEqual(['APP_URL', 'DATABASE_URL', 'PORT']);
  });

  it('requires GitHub credentials in pairs', () => {
    expect(problemsOf({ ...base, GITHUB_CLIENT_ID: 'id' })[0]).toMatch(
      /^GITHUB_CLIENT_SECRET .*both or neither/,
    );
    expect(problemsOf({ ...base, GITHUB_CLIENT_SECRET: 'secret' })[0]).toMatch(/^GITHUB_CLIENT_ID /);
    expect(parseEnv({ ...base, GITHUB_CLIENT_ID: 'id', GITHUB_CLIENT_SECRET: 'secret' }).github).toEqual({
      clientId: 'id',
      clientSecret: 'secret',
    });
  });

  it('requires MAIL_FROM with SMTP_URL', () => {
    expect(problemsOf({ ...base, SMTP_URL: 'smtp://localhost:2525' })[0]).toMatch(/^MAIL_FROM /);
    expect(parseEnv({ ...base, SMTP_URL: 'smtp://localhost:2525', MAIL_FROM: 'Kiln <k@x.io>' }).smtp).toEqual(
      {
        url: 'smtp://localhost:2525',
        from: 'Kiln <k@x.io>',
      },
    );
  });

  it("runs kernels through the scheduler once the gateways' secret is set (no gateway URL needed)", () => {
    expect(parseEnv(base).kernelGateway).toBeNull();
    expect(parseEnv({ ...base, KILN_GATEWAY_TOKEN: 'a-secret-of-sixteen+' }).kernelGateway).toEqual({
      url: null,
      secret: 'a-secret-of-sixteen+',
    });
    expect(
      parseEnv({
        ...base,
        KERNEL_GATEWAY_URL: 'http://127.0.0.1:8888/',
        KILN_GATEWAY_TOKEN: 'a-secret-of-sixteen+',
      }).kernelGateway,
    ).toEqual({ url: 'http://127.0.0.1:8888', secret: 'a-secret-of-sixteen+' });
  });

  it("takes the scheduler's timeouts and the operator's maximums, with defaults", () => {
    expect(parseEnv(base).scheduler).toEqual({
      queueTimeoutMs: 900_000,
      heartbeatTimeoutMs: 30_000,
      lostGiveUpMs: 900_000,
      maxCpuPerContainer: 64,
      maxMemoryMiBPerContainer: 262_144,
      enterprise: { maxContainers: null, gpuConcurrency: null },
    });
    const set = parseEnv({
      ...base,
      KILN_QUEUE_TIMEOUT_SECONDS: '20',
      KILN_LOST_KERNEL_GIVE_UP_SECONDS: '60',
      KILN_MAX_KERNEL_CPU: '4',
      KILN_ENTERPRISE_MAX_GPUS: '200',
    }).scheduler;
    expect(set).toMatchObject({
      queueTimeoutMs: 20_000,
      lostGiveUpMs: 60_000,
      maxCpuPerContainer: 4,
      enterprise: { gpuConcurrency: 200 },
    });
    expect(() => parseEnv({ ...base, KILN_QUEUE_TIMEOUT_SECONDS: '-1' })).toThrow(
      /KILN_QUEUE_TIMEOUT_SECONDS/,
    );
  });

  it('uses the local Stripe server without a key, and needs a webhook secret with one', () => {
    expect(parseEnv(base).stripe).toEqual({
      secretKey: null,
      webhookSecret: 'whsec_kiln_local_development',
      localUrl: 'http://127.0.0.1:12111',
    });
    expect(() => parseEnv({ ...base, STRIPE_SECRET_KEY: 'sk_test_abc' })).toThrow(
      /STRIPE_WEBHOOK_SECRET is required/,
    );
    expect(() => parseEnv({ ...base, STRIPE_SECRET_KEY: 'pk_test_abc' })).toThrow(
      /STRIPE_SECRET_KEY must be a Stripe secret key/,
    );
    expect(
      parseEnv({ ...base, STRIPE_SECRET_KEY: 'sk_test_abc', STRIPE_WEBHOOK_SECRET: 'whsec_x1' }).stripe
        .secretKey,
    ).toBe('sk_test_abc');
  });

  it('shows the variable name in the error message', () => {
    expect(() => parseEnv({ ...base, PORT: '70000' })).toThrow(/PORT must be a port number/);
  });

  it('takes a 32-byte secrets key and old keys to rotate from, and names a bad one', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const old = 'ab'.repeat(32);
    expect(parseEnv(base).secrets).toBeNull();
    expect(parseEnv({ ...base, KILN_SECRETS_KEY: key, KILN_SECRETS_OLD_KEYS: old }).secrets).toEqual({
      key,
      oldKeys: [old],
    });
    expect(problemsOf({ ...base, KILN_SECRETS_KEY: 'too-short' })).toEqual([
      'KILN_SECRETS_KEY must be 32 bytes as base64 or 64 hex digits',
    ]);
    expect(problemsOf({ ...base, KILN_SECRETS_KEY: key, KILN_SECRETS_OLD_KEYS: `${old},nope` })).toEqual([
      'KILN_SECRETS_OLD_KEYS must be comma-separated keys of 32 bytes as base64 or 64 hex digits',
    ]);
  });

  it('names the web process by host and port unless told, so a restart keeps its kernels and two processes differ', () => {
    const first = parseEnv({ ...base, PORT: '3001' }).webProcessId;
    expect(parseEnv({ ...base, PORT: '3001' }).webProcessId).toBe(first);
    expect(parseEnv({ ...base, PORT: '3002' }).webProcessId).not.toBe(first);
    // Port 0 is any port: such processes must not share an id.
    expect(parseEnv({ ...base, PORT: '0' }).webProcessId).not.toBe(
      parseEnv({ ...base, PORT: '0' }).webProcessId,
    );
    expect(parseEnv({ ...base, KILN_WEB_PROCESS_ID: 'web-1' }).webProcessId).toBe('web-1');
    expect(problemsOf({ ...base, KILN_WEB_PROCESS_ID: 'no spaces' })[0]).toMatch(
      /^KILN_WEB_PROCESS_ID must be/,
    );
  });
});
