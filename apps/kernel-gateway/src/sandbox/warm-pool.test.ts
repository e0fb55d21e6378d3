import { describe, expect, it } from 'vitest';
import type { SandboxInstance } from './sandbox-instance.ts';
import { WarmPool } from './warm-pool.ts';

// The pool's policy on its own; the runsc integration tests cover real spares (restart takes one).
function spareFor(workspaceId: string, commands: Record<string, unknown>[]): SandboxInstance {
  return {
    workspaceId,
    resources: { cpu: 1, memoryMiB: 512 },
    channel: { command: (c: Record<string, unknown>) => commands.push(c) },
  } as unknown as SandboxInstance;
}

describe('WarmPool', () => {
  it('keeps spares for the most recently used workspaces and hands them the kernel env', async () => {
    const commands: Record<string, unknown>[] = [];
    const destroyed: string[] = [];
    const pool = new WarmPool({
      size: 1,
      launch: async (workspaceId) => spareFor(workspaceId, commands),
      destroy: async (instance) => {
        destroyed.push(instance.workspaceId);
      },
    });
    const resources = { cpu: 1, memoryMiB: 512 };
    pool.refill('w1', resources);
    pool.refill('w2', resources);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(destroyed).toEqual(['w1']);
    expect(await pool.take('w1', resources, {})).toBeUndefined();
    expect(await pool.take('w2', { cpu: 2, memoryMiB: 512 }, {})).toBeUndefined();
    expect((await pool.take('w2', resources, { SECRET: 's' }))?.workspaceId).toBe('w2');
    expect(commands).toEqual([{ op: 'init', env: { SECRET: 's' } }]);
  });

  it('never pools GPU kernels', async () => {
    const pool = new WarmPool({
      size: 2,
      launch: async (w) => spareFor(w, []),
      destroy: async () => undefined,
    });
    pool.refill('w1', { cpu: 1, memoryMiB: 512, gpu: 'H100' });
    expect(await pool.take('w1', { cpu: 1, memoryMiB: 512, gpu: 'H100' }, {})).toBeUndefined();
  });
});

describe('WarmPool spares per workspace', () => {
  it('keeps several spares for one workspace so a burst finds them, within the total size', async () => {
    const launched: string[] = [];
    const destroyed: string[] = [];
    const pool = new WarmPool({
      size: 3,
      perWorkspace: 2,
      launch: async (w) => {
        launched.push(w);
        return spareFor(w, []);
      },
      destroy: async (instance) => {
        destroyed.push(instance.workspaceId);
      },
    });
    const resources = { cpu: 1, memoryMiB: 512 };
    pool.refill('w1', resources);
    pool.refill('w1', resources);
    expect(launched).toEqual(['w1', 'w1']);
    // w2 needs two, only one slot is free: w1, least recently used, gives one up.
    pool.refill('w2', resources);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(launched).toEqual(['w1', 'w1', 'w2', 'w2']);
    expect(destroyed).toEqual(['w1']);
    expect(await pool.take('w2', resources, {})).toBeDefined();
    expect(await pool.take('w2', resources, {})).toBeDefined();
    expect(await pool.take('w2', resources, {})).toBeUndefined();
    expect(await pool.take('w1', resources, {})).toBeDefined();
  });
});
