import { describe, expect, it } from 'vitest';
import { describeWant, fairOrder, type QueuedEntry, queueAhead, queueKeys } from './fair-queue.ts';

const entry = (
  id: string,
  workspaceId: string,
  queuedAt: number,
  gpu: QueuedEntry['gpu'] = [{ type: 'H100', count: 1 }],
): QueuedEntry => ({
  id,
  workspaceId,
  queuedAt,
  cpu: 1,
  memoryMiB: 1024,
  gpu,
});

describe('fairOrder', () => {
  it("puts another workspace's single request right behind the first of a burst, not behind all of it", () => {
    const burst = Array.from({ length: 50 }, (_, i) => entry(`a${i}`, 'A', i));
    const order = fairOrder([...burst, entry('b0', 'B', 100)]).map((e) => e.id);
    expect(order.slice(0, 3)).toEqual(['a0', 'b0', 'a1']);
  });

  it('goes round-robin across workspaces, earliest first within each round', () => {
    const order = fairOrder([
      entry('a1', 'A', 1),
      entry('a2', 'A', 2),
      entry('a3', 'A', 3),
      entry('b1', 'B', 5),
      entry('b2', 'B', 6),
      entry('c1', 'C', 4),
    ]).map((e) => e.id);
    expect(order).toEqual(['a1', 'c1', 'b1', 'a2', 'b2', 'a3']);
  });
});

describe('queueAhead', () => {
  it('counts only requests ahead that want the same GPU type, CPU or node', () => {
    const ordered = fairOrder([
      entry('h1', 'A', 1),
      entry('t1', 'B', 2, [{ type: 'T4', count: 1 }]),
      entry('h2', 'C', 3),
      entry('either', 'D', 4, [
        { type: 'T4', count: 1 },
        { type: 'H100', count: 1 },
      ]),
      entry('cpu', 'E', 5, []),
    ]);
    expect(Object.fromEntries(queueAhead(ordered))).toEqual({ h1: 0, t1: 0, h2: 1, either: 3, cpu: 0 });
  });

  it('treats a pinned request as competing for its node too', () => {
    expect(queueKeys({ gpu: [], pinnedNodeId: 'n1' })).toEqual(['cpu', 'node:n1']);
  });
});

describe('describeWant', () => {
  it('words GPU shapes and CPU-only requests as the kernel bar shows them', () => {
    expect(describeWant({ cpu: 1, memoryMiB: 1024, gpu: [{ type: 'H100', count: 1 }] })).toBe('an H100');
    expect(describeWant({ cpu: 1, memoryMiB: 1024, gpu: [{ type: 'T4', count: 1 }] })).toBe('a T4');
    expect(
      describeWant({
        cpu: 1,
        memoryMiB: 1024,
        gpu: [
          { type: 'H100', count: 2 },
          { type: 'A100-80GB', count: 1 },
        ],
      }),
    ).toBe('2 × H100 or an A100-80GB');
    expect(describeWant({ cpu: 16, memoryMiB: 65_536, gpu: [] })).toBe('16 CPUs and 64 GiB of memory');
  });
});
