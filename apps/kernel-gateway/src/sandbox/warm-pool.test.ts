import { describe, expect, it, vi } from 'vitest';
import type { SandboxInstance } from './sandbox-instance.ts';
import { WarmPool } from './warm-pool.ts';

// The pool's policy on its own; the runsc integration tests cover real spares (restart takes one).
function spareFor(workspaceId: string, commands: Record<string, unknown>[]): SandboxInstance {
  return {
    workspaceId,
    resources: { cpu: 1, memoryMiB: 512 },
    channel: { command: (c: Record<string, unknown>) => commands.push(c) },
    // Recorded beside the commands: container.log must mask the env before the sandbox has it.
    container: { learnSecrets: (env: Record<string, string>) => commands.push({ masks: env }) },
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
    // The spares whose memory the scheduler node reports: w2's (w1's was evicted), until it is taken.
    expect(pool.readySpares().map((spare) => spare.workspaceId)).toEqual(['w2']);
    expect((await pool.take('w2', resources, { SECRET: 's' }))?.workspaceId).toBe('w2');
    expect(pool.readySpares()).toEqual([]);
    expect(commands).toEqual([{ masks: { SECRET: 's' } }, { op: 'init', env: { SECRET: 's' } }]);
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

describe('WarmPool refill after a hand-out', () => {
  it('starts the replacement only after the wait, once per workspace, and never after drain', async () => {
    vi.useFakeTimers();
    try {
      const launched: string[] = [];
      const pool = new WarmPool({
        size: 2,
        launch: async (w) => {
          launched.push(w);
          return spareFor(w, []);
        },
        destroy: async () => undefined,
      });
      const resources = { cpu: 1, memoryMiB: 512 };
      pool.refillLater('w1', resources, 2000);
      // The kernel just handed out has the cores to itself meanwhile.
      vi.advanceTimersByTime(1500);
      expect(launched).toEqual([]);
      // A second hand-out in the same workspace starts the wait over instead of queueing a second restore.
      pool.refillLater('w1', resources, 2000);
      vi.advanceTimersByTime(1500);
      expect(launched).toEqual([]);
      vi.advanceTimersByTime(500);
      expect(launched).toEqual(['w1']);
      expect(await pool.take('w1', resources, {})).toBeDefined();

      pool.refillLater('w2', resources, 2000);
      await pool.drain(async () => undefined);
      vi.advanceTimersByTime(5000);
      expect(launched).toEqual(['w1']);
      // No wait asked for: at once.
      pool.refillLater('w3', resources, 0);
      expect(launched).toEqual(['w1', 'w3']);
    } finally {
      vi.useRealTimers();
    }
  });
});
