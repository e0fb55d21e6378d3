import { describe, expect, it } from 'vitest';
import { startGateway } from '../../test/harness.ts';

describe('sessions API', () => {
  it('creates, reuses per path, renames, swaps kernels and deletes with Jupyter status codes', async () => {
    const { call, tokenA } = await startGateway();
    const created = await call('POST', '/api/sessions', tokenA, {
      path: 'work/a.ipynb',
      name: 'a.ipynb',
      type: 'notebook',
      kernel: { name: 'python3' },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      path: 'work/a.ipynb',
      name: 'a.ipynb',
      type: 'notebook',
      kernel: { name: 'python3', execution_state: 'idle' },
      notebook: { path: 'work/a.ipynb' },
    });
    const again = await call('POST', '/api/sessions', tokenA, {
      path: 'work/a.ipynb',
      type: 'notebook',
      kernel: { name: 'python3' },
    });
    expect(again.status).toBe(201);
    expect(again.json.id).toBe(created.json.id);
    expect((await call('GET', '/api/kernels', tokenA)).json).toHaveLength(1);

    const renamed = await call('PATCH', `/api/sessions/${created.json.id}`, tokenA, {
      path: 'work/b.ipynb',
      name: 'b.ipynb',
    });
    expect(renamed.status).toBe(200);
    expect(renamed.json).toMatchObject({
      path: 'work/b.ipynb',
      name: 'b.ipynb',
      kernel: { id: created.json.kernel.id },
    });

    const swapped = await call('PATCH', `/api/sessions/${created.json.id}`, tokenA, {
      kernel: { name: 'python3' },
    });
    expect(swapped.status).toBe(200);
    expect(swapped.json.kernel.id).not.toBe(created.json.kernel.id);
    expect((await call('GET', `/api/kernels/${created.json.kernel.id}`, tokenA)).status).toBe(404);

    expect((await call('GET', '/api/sessions', tokenA)).json).toHaveLength(1);
    expect((await call('DELETE', `/api/sessions/${created.json.id}`, tokenA)).status).toBe(204);
    expect((await call('GET', `/api/sessions/${created.json.id}`, tokenA)).status).toBe(404);
    expect((await call('GET', `/api/kernels/${swapped.json.kernel.id}`, tokenA)).status).toBe(404);
  });

  it('drops a session when its kernel is shut down and rejects bad bodies', async () => {
    const { call, tokenA } = await startGateway();
    const session = (
      await call('POST', '/api/sessions', tokenA, { path: 'x.ipynb', type: 'notebook', kernel: {} })
    ).json;
    await call('DELETE', `/api/kernels/${session.kernel.id}`, tokenA);
    expect((await call('GET', '/api/sessions', tokenA)).json).toEqual([]);
    const bad = await call('POST', '/api/sessions', tokenA, { path: 5 });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toMatch(/path/);
  });
});
