import { ChannelRefused, connectChannel } from '@kiln/kernel-protocol/client';
import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, eventually, startGateway } from '../../test/harness.ts';

describe('kernel REST API', () => {
  it('answers with Jupyter Server status codes and models', async () => {
    const { call, tokenA } = await startGateway();
    expect((await call('GET', '/api', tokenA)).json.version).toMatch(/^2\./);
    const specs = (await call('GET', '/api/kernelspecs', tokenA)).json;
    expect(specs.default).toBe('python3');
    expect(specs.kernelspecs.python3.spec).toMatchObject({ language: 'python', argv: expect.any(Array) });
    expect((await call('GET', '/kernelspecs/python3/kernel.json', tokenA)).json.display_name).toContain(
      'Python',
    );

    const created = await call('POST', '/api/kernels', tokenA, { name: 'python3' });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    expect(created.headers.get('location')).toBe(`/api/kernels/${id}`);
    expect(created.json).toMatchObject({
      name: 'python3',
      execution_state: 'idle',
      connections: 0,
      resources: { cpu: 1, memoryMiB: 2048 },
    });
    expect(new Date(created.json.last_activity).toISOString()).toBe(created.json.last_activity);
    expect((await call('GET', `/api/kernels/${id}`, tokenA)).status).toBe(200);
    expect((await call('GET', '/api/kernels', tokenA)).json.map((k: { id: string }) => k.id)).toEqual([id]);
    expect((await call('POST', `/api/kernels/${id}/interrupt`, tokenA)).status).toBe(204);
    // Kiln's hibernate-now (a spending cap): the model says it sleeps, and asking again changes nothing.
    const slept = await call('POST', `/api/kernels/${id}/hibernate`, tokenA);
    expect(slept.status).toBe(200);
    expect(slept.json).toMatchObject({ id, execution_state: 'hibernated', hibernation: 'hibernated' });
    expect((await call('POST', `/api/kernels/${id}/hibernate`, tokenA)).json.hibernation).toBe('hibernated');
    const restarted = await call('POST', `/api/kernels/${id}/restart`, tokenA);
    expect(restarted.status).toBe(200);
    expect(restarted.json.id).toBe(id);
    expect((await call('DELETE', `/api/kernels/${id}`, tokenA)).status).toBe(204);
    const gone = await call('GET', `/api/kernels/${id}`, tokenA);
    expect(gone.status).toBe(404);
    expect(gone.json).toMatchObject({ message: `Kernel does not exist: ${id}`, reason: 'Not Found' });
  });

  it('tells every client of a kernel paused at a cap why, whichever process asked, and wakes on use', async () => {
    const { call, tokenA, wsUrl } = await startGateway();
    const id = (await call('POST', '/api/kernels', tokenA, {})).json.id as string;
    // Two web processes: one holds the notebook's kernel, the other's billing pass pauses it.
    const [holder, other] = await Promise.all(
      [1, 2].map(() => connectChannel({ url: `${wsUrl}/api/kernels/${id}/channels`, token: tokenA })),
    );
    const paused = [holder, other].map((channel) => {
      const seen: unknown[] = [];
      channel?.onMessage((message) => {
        if (message.header.msg_type === 'status' && message.content.kiln_paused)
          seen.push(message.content.kiln_paused);
      });
      return seen;
    });
    const reason = 'This workspace reached its monthly budget of $1.00, which is a hard cap.';
    const bad = await call('POST', `/api/kernels/${id}/hibernate`, tokenA, { reason: '  ' });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toMatch(/reason/);
    expect((await call('POST', `/api/kernels/${id}/hibernate`, tokenA, { reason: 7 })).status).toBe(400);
    expect((await call('GET', `/api/kernels/${id}`, tokenA)).json.hibernation).toBe('awake');

    const slept = await call('POST', `/api/kernels/${id}/hibernate`, tokenA, { reason });
    expect(slept.json).toMatchObject({ execution_state: 'hibernated', hibernation: 'hibernated' });
    await eventually(() => paused.every((seen) => seen.length === 1));
    expect(paused).toEqual([[{ reason }], [{ reason }]]);
    // The holder's next request wakes it (variables kept, as with any hibernation).
    expect((await holder?.execute('1+1'))?.reply.content.status).toBe('ok');
    expect((await call('GET', `/api/kernels/${id}`, tokenA)).json.hibernation).toBe('awake');
    await Promise.all([holder?.close(), other?.close()]);
  });

  it('passes resources and env to the sandbox and rejects bad ones naming the field', async () => {
    const { call, tokenA, driver, workspaceA } = await startGateway();
    const created = await call('POST', '/api/kernels', tokenA, {
      env: { KERNEL_USERNAME: 'ada' },
      resources: { cpu: 2, memoryMiB: 4096, gpu: 'A100-80GB:1' },
    });
    expect(created.status).toBe(201);
    expect(driver.sandboxes[0]?.options).toMatchObject({
      workspaceId: workspaceA,
      env: { KERNEL_USERNAME: 'ada' },
      resources: { cpu: 2, memoryMiB: 4096, gpu: 'A100-80GB:1' },
    });
    const bad = await call('POST', '/api/kernels', tokenA, { resources: { cpu: -1, memoryMiB: 10 } });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toMatch(/resources\.cpu.*resources\.memoryMiB/);
    expect((await call('POST', '/api/kernels', tokenA, { resources: { disk: 1 } })).status).toBe(400);
    expect((await call('POST', '/api/kernels', tokenA, { env: { 'BAD-NAME': 'x' } })).status).toBe(400);
    expect((await call('POST', '/api/kernels', tokenA, '{not json')).json.message).toMatch(/not valid JSON/);
    const deep = await call(
      'POST',
      '/api/kernels',
      tokenA,
      `{"env":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
    );
    expect(deep.status).toBe(400);
    expect(deep.json.message).toMatch(/nests deeper than 128 levels/);
    const unknown = await call('POST', '/api/kernels', tokenA, { name: 'julia' });
    expect(unknown.status).toBe(404);
    expect(unknown.json.message).toMatch(/No such kernel spec: julia/);
  });

  it('gives clear JSON errors for bad ids, unknown routes, wrong methods and failed sandboxes', async () => {
    const { call, tokenA, driver } = await startGateway();
    const bad = await call('GET', '/api/kernels/not-a-kernel', tokenA);
    expect(bad.status).toBe(404);
    expect(bad.json).toMatchObject({ reason: 'Not Found', message: expect.stringContaining('not-a-kernel') });
    expect((await call('POST', '/api/kernels/nope/restart', tokenA)).status).toBe(404);
    const route = await call('GET', '/api/nothing-here', tokenA);
    expect(route.status).toBe(404);
    expect(route.json.message).toMatch(/No such endpoint/);
    expect((await call('PUT', '/api/kernels', tokenA)).status).toBe(405);
    const plain = await call('GET', `/api/kernels/${crypto.randomUUID()}/channels`, tokenA);
    expect(plain.status).toBe(400);
    expect(plain.json.message).toMatch(/websocket/);
    driver.failNext = new Error('runsc: image missing');
    const failed = await call('POST', '/api/kernels', tokenA, {});
    expect(failed.status).toBe(500);
    expect(failed.json).toMatchObject({
      code: 'SANDBOX_FAILED',
      message: expect.stringContaining('image missing'),
    });
    expect((await call('POST', '/api/kernels', tokenA, {})).status).toBe(201);
  });

  it('caps kernels per workspace, so one workspace cannot fill the gateway for another', async () => {
    const { call, tokenA, tokenB } = await startGateway({ maxKernelsPerWorkspace: 2 });
    expect((await call('POST', '/api/kernels', tokenA, {})).status).toBe(201);
    const second = await call('POST', '/api/kernels', tokenA, {});
    expect(second.status).toBe(201);
    const third = await call('POST', '/api/kernels', tokenA, {});
    expect(third.status).toBe(429);
    expect(third.json).toMatchObject({ code: 'QUOTA_EXCEEDED', limit: 'maxKernelsPerWorkspace', max: 2 });
    expect(third.json.message).toMatch(/limit of 2 kernels/);
    expect((await call('POST', '/api/kernels', tokenB, {})).status).toBe(201);
    await call('DELETE', `/api/kernels/${second.json.id}`, tokenA);
    expect((await call('POST', '/api/kernels', tokenA, {})).status).toBe(201);
  });

  it("refuses a kernel above the operator's maximum CPU or memory, whoever asks", async () => {
    const { call, tokenA } = await startGateway({ maxResources: { cpu: 2, memoryMiB: 4096 } });
    const big = await call('POST', '/api/kernels', tokenA, { resources: { cpu: 64, memoryMiB: 1024 } });
    expect(big.status).toBe(429);
    expect(big.json).toMatchObject({ code: 'QUOTA_EXCEEDED', limit: 'maxCpu' });
    expect(big.json.message).toMatch(/at most 2 CPU and 4096 MiB/);
    const fat = await call('POST', '/api/kernels', tokenA, { resources: { memoryMiB: 262_144 } });
    expect(fat.json).toMatchObject({ code: 'QUOTA_EXCEEDED', limit: 'maxMemoryMiB' });
    const session = await call('POST', '/api/sessions', tokenA, {
      path: 'a.ipynb',
      type: 'notebook',
      kernel: { name: 'python3', resources: { memoryMiB: 8192 } },
    });
    expect(session.status).toBe(429);
    const fits = await call('POST', '/api/kernels', tokenA, { resources: { cpu: 2, memoryMiB: 4096 } });
    expect(fits.status).toBe(201);
    expect(fits.json.resources).toMatchObject({ cpu: 2, memoryMiB: 4096 });
  });
});

describe('authentication and workspaces', () => {
  it('accepts the token in the header or query and rejects missing or forged tokens', async () => {
    const { call, url, tokenA, workspaceA } = await startGateway();
    expect((await call('GET', '/api/kernels', null)).status).toBe(401);
    expect((await call('GET', '/api/kernels', 'wrong')).status).toBe(401);
    expect((await call('GET', '/api/kernels', `${tokenA.slice(0, -2)}xx`)).status).toBe(401);
    expect((await call('GET', '/api/kernels', `kws_${workspaceA}.`)).status).toBe(401);
    expect((await fetch(`${url}/api/kernels?token=${encodeURIComponent(tokenA)}`)).status).toBe(200);
    const bearer = await fetch(`${url}/api/kernels`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(bearer.status).toBe(200);
  });

  it('hides every kernel, session and terminal of another workspace, over REST and websockets', async () => {
    const { call, wsUrl, tokenA, tokenB, workspaceA, workspaceB } = await startGateway();
    const kernel = (await call('POST', '/api/kernels', tokenA, {})).json;
    const session = (
      await call('POST', '/api/sessions', tokenA, {
        path: 'a.ipynb',
        type: 'notebook',
        kernel: { id: kernel.id },
      })
    ).json;
    const terminal = (await call('POST', '/api/terminals', tokenA, {})).json;

    expect((await call('GET', '/api/kernels', tokenB)).json).toEqual([]);
    expect((await call('GET', '/api/sessions', tokenB)).json).toEqual([]);
    expect((await call('GET', '/api/terminals', tokenB)).json).toEqual([]);
    for (const [method, path] of [
      ['GET', `/api/kernels/${kernel.id}`],
      ['DELETE', `/api/kernels/${kernel.id}`],
      ['POST', `/api/kernels/${kernel.id}/interrupt`],
      ['POST', `/api/kernels/${kernel.id}/restart`],
      ['POST', `/api/kernels/${kernel.id}/hibernate`],
      ['GET', `/api/sessions/${session.id}`],
      ['PATCH', `/api/sessions/${session.id}`],
      ['DELETE', `/api/sessions/${session.id}`],
      ['GET', `/api/terminals/${terminal.name}`],
      ['DELETE', `/api/terminals/${terminal.name}`],
    ] as const) {
      expect(
        (await call(method, path, tokenB, method === 'PATCH' ? {} : undefined)).status,
        `${method} ${path}`,
      ).toBe(404);
    }
    // Borrowing another workspace's kernel into a session is refused the same way.
    expect(
      (await call('POST', '/api/sessions', tokenB, { path: 'b.ipynb', kernel: { id: kernel.id } })).status,
    ).toBe(404);
    const refused = await connectChannel({
      url: `${wsUrl}/api/kernels/${kernel.id}/channels`,
      token: tokenB,
    }).catch((e) => e);
    expect(refused).toBeInstanceOf(ChannelRefused);
    expect((refused as ChannelRefused).status).toBe(404);

    // The admin token acts for whichever workspace it names; a workspace token cannot name another.
    expect(
      (await call('GET', '/api/kernels', ADMIN_TOKEN, undefined, { 'x-kiln-workspace': workspaceA })).json,
    ).toHaveLength(1);
    expect(
      (await call('GET', '/api/kernels', ADMIN_TOKEN, undefined, { 'x-kiln-workspace': workspaceB })).json,
    ).toHaveLength(0);
    expect(
      (await call('GET', '/api/kernels', tokenB, undefined, { 'x-kiln-workspace': workspaceA })).status,
    ).toBe(403);
    expect(
      (await call('GET', '/api/kernels', ADMIN_TOKEN, undefined, { 'x-kiln-workspace': 'nope' })).status,
    ).toBe(400);
    const channel = await connectChannel({
      url: `${wsUrl}/api/kernels/${kernel.id}/channels`,
      token: ADMIN_TOKEN,
      headers: { 'x-kiln-workspace': workspaceA },
    });
    expect((await channel.execute('1+1')).reply.content.status).toBe('ok');
    await channel.close();
  });
});
