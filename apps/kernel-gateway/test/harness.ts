import { randomUUID } from 'node:crypto';
import { workspaceToken } from '@kiln/kernel-protocol/client';
import { afterEach } from 'vitest';
import { createGateway, type GatewayOptions } from '../src/http/gateway.ts';
import type { SandboxDriver } from '../src/sandbox/types.ts';
import { FakeDriver } from './fake-driver.ts';

export const ADMIN_TOKEN = 'test-admin-secret-0123456789';

const running: Array<() => Promise<void>> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((close) => close()));
});

/** Starts a gateway on port 0 (torn down after each test) with two workspaces and their tokens. */
export async function startGateway<D extends SandboxDriver = FakeDriver>(
  options: Partial<GatewayOptions> & { driver?: D } = {},
) {
  const driver = (options.driver ?? new FakeDriver()) as D;
  const gateway = createGateway({ kernelInfoTimeoutMs: 5000, ...options, driver, token: ADMIN_TOKEN });
  const { url } = await gateway.listen(0);
  running.push(() => gateway.close());
  const workspaceA = randomUUID();
  const workspaceB = randomUUID();
  const tokenA = workspaceToken(ADMIN_TOKEN, workspaceA);
  const tokenB = workspaceToken(ADMIN_TOKEN, workspaceB);
  /** fetch with a token (and optional extra headers), returning status + parsed JSON. */
  async function call(method: string, path: string, token: string | null, body?: unknown, headers = {}) {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { ...(token ? { authorization: `token ${token}` } : {}), ...headers },
      body: typeof body === 'string' ? body : body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON bodies
    const json: any = text ? JSON.parse(text) : undefined;
    return { status: response.status, json, headers: response.headers };
  }
  return {
    gateway,
    driver,
    url,
    wsUrl: url.replace('http', 'ws'),
    workspaceA,
    workspaceB,
    tokenA,
    tokenB,
    call,
  };
}

/** Polls until `check` is truthy or fails after `timeoutMs`. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
