import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNotebook, createSession, signUp, TEST_PASSWORD_HASH_OPTIONS } from '@kiln/accounts';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { createGateway } from '@kiln/kernel-gateway';
import { createRunscDriver, ensureSandboxImage, probeRunsc } from '@kiln/kernel-gateway/sandbox';
import { createGatewayClient } from '@kiln/kernel-protocol/client';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { createTerminalProxy, GATEWAY_NOT_CONFIGURED } from './terminal-proxy.ts';
import { createUpgradeRouter } from './upgrade-router.ts';

const APP_URL = 'http://kiln.test';
let database: TestDatabase;
let notebookId: string;
let workspaceId: string;
let editorId: string;
const cookies = { editor: '', viewer: '' };

beforeAll(async () => {
  database = await createTestDatabase();
  const { db } = database;
  const options = { passwordHash: TEST_PASSWORD_HASH_OPTIONS };
  const password = 'a long enough password';
  const editor = await signUp(db, { email: 'ed@kiln.test', password, name: 'Ed' }, options);
  const viewer = await signUp(db, { email: 'vi@kiln.test', password, name: 'Vi' }, options);
  workspaceId = editor.personalWorkspace.id;
  editorId = editor.user.id;
  await db.membership.create({ data: { workspaceId, userId: viewer.user.id, role: 'VIEWER' } });
  ({ id: notebookId } = await createNotebook(db, { workspaceId, name: 'T', createdById: editor.user.id }));
  cookies.editor = `kiln_session=${(await createSession(db, { userId: editor.user.id })).token}`;
  cookies.viewer = `kiln_session=${(await createSession(db, { userId: viewer.user.id })).token}`;
});

afterAll(async () => {
  await database?.drop();
});

async function startProxy(gateway: { url: string; secret: string } | null): Promise<string> {
  return (await startProxyWithHandle(gateway)).url;
}

async function startProxyWithHandle(gateway: { url: string; secret: string } | null) {
  const proxy = createTerminalProxy({ db: database.db, appUrl: APP_URL, gateway });
  const upgrades = createUpgradeRouter();
  upgrades.route('/terminals', (req, socket, head, rest) => proxy.handleUpgrade(req, socket, head, rest));
  const http = createServer((_req, res) => res.writeHead(404).end());
  http.on('upgrade', (req, socket, head) => upgrades.handle(req, socket, head));
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  onTestFinished(async () => {
    proxy.close();
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  });
  return { proxy, url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/terminals/${notebookId}` };
}

async function closeOf(url: string, headers: Record<string, string>): Promise<[number, string]> {
  const socket = new WebSocket(url, { headers });
  const [code, reason] = (await once(socket, 'close')) as [number, Buffer];
  return [code, reason.toString()];
}

describe('/terminals/<notebookId> upgrade', () => {
  it('refuses signed-out users (4401) and viewers (4403) before touching the gateway', async () => {
    const url = await startProxy({ url: 'http://127.0.0.1:9', secret: 'a-secret-of-sixteen+' });
    expect((await closeOf(url, {}))[0]).toBe(4401);
    expect(await closeOf(url, { cookie: cookies.viewer })).toEqual([4403, 'Viewers cannot open a terminal']);
  });

  it('tells an editor when no kernel gateway is configured', async () => {
    const url = await startProxy(null);
    expect(await closeOf(url, { cookie: cookies.editor })).toEqual([4404, GATEWAY_NOT_CONFIGURED]);
  });

  it('refuses a handshake from another site even with a valid cookie', async () => {
    const url = await startProxy(null);
    expect((await closeOf(url, { cookie: cookies.editor, origin: 'https://evil.example' }))[0]).toBe(4403);
  });

  it('gives an editor a shell inside the kernel sandbox, and closes it when their access changes', async () => {
    const secret = `terminal-int-${Date.now()}-secret`;
    const stateDir = await mkdtemp(join(tmpdir(), 'kiln-web-terminal-test-'));
    const driver = createRunscDriver({
      stateDir,
      imageDir: await ensureSandboxImage(),
      warmPoolSize: 0,
      features: (await probeRunsc()).features,
    });
    const gateway = createGateway({ driver, token: secret, kernelInfoTimeoutMs: 60_000 });
    const { url: gatewayUrl } = await gateway.listen(0);
    onTestFinished(async () => {
      await gateway.close();
      await driver.close();
      await rm(stateDir, { recursive: true, force: true });
    });
    const kernel = await createGatewayClient({
      baseUrl: gatewayUrl,
      token: secret,
      workspaceId,
    }).startKernel();
    const { proxy, url } = await startProxyWithHandle({ url: gatewayUrl, secret });

    const shell = new WebSocket(`${url}?kernel=${kernel.id}`, {
      headers: { cookie: cookies.editor, origin: APP_URL },
    });
    let output = '';
    shell.on('message', (data) => {
      const [kind, text] = JSON.parse(data.toString()) as [string, string];
      if (kind === 'stdout') output += text;
    });
    await once(shell, 'open');
    const until = async (text: string) => {
      const deadline = Date.now() + 20_000;
      while (!output.includes(text) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(output).toContain(text);
    };
    await until('$ ');
    shell.send(JSON.stringify(['stdin', 'ls /workspace >/dev/null && echo "in-sandbox-$((6 * 7))"\r']));
    // The terminal echoes what is typed; only a shell that ran the command prints 42.
    await until('in-sandbox-42');

    const closed = once(shell, 'close');
    expect(proxy.disconnectUser(editorId)).toBe(1);
    const [code] = (await closed) as [number];
    expect(code).toBe(4000);
  }, 180_000);
});
