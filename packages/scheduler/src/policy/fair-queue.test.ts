import { describe, expect, it } from 'vitest';
import {
  describeWant,
  fairOrder,
  NodeHolds,
  nextFairTag,
  type QueuedEntry,
  queueAhead,
  queueKeys,
} from './fair-queue.ts';

const entry = (
  id: string,
  workspaceId: string,
  queuedAt: number,
  gpu: QueuedEntry['gpu'] = [{ type: 'H100', count: 1 }],
): QueuedEntry => ({ id, workspaceId, queuedAt, fairTag: queuedAt, cpu: 1, memoryMiB: 1024, gpu });

/** Enqueues entries one after another as the store does: each gets the next fair tag. */
function enqueue(arrivals: [id: string, workspaceId: string][]): QueuedEntry[] {
  const waiting: QueuedEntry[] = [];
  arrivals.forEach(([id, workspaceId], at) => {
    const head = Math.min(...waiting.map((e) => e.fairTag));
    const backlog = waiting.filter((e) => e.workspaceId === workspaceId).map((e) => e.fairTag);
    const fairTag = nextFairTag(
      Number.isFinite(head) ? head : 0,
      backlog.length ? Math.max(...backlog) : null,
    );
    waiting.push({ ...entry(id, workspaceId, at), fairTag });
  });
  return waiting;
}

describe('fairOrder', () => {
  it("puts another workspace's single request right behind the first of a burst, not behind all of it", () => {
    const burst = Array.from({ length: 50 }, (_, i): [string, string] => [`a${i}`, 'A']);
    const order = fairOrder(enqueue([...burst, ['b0', 'B']])).map((e) => e.id);
    expect(order.slice(0, 4)).toEqual(['a0', 'b0', 'a1', 'a2']);
  });

  it('interleaves several workspaces round-robin, earlier arrivals first within a round', () => {
    const order = fairOrder(
      enqueue([
        ['a1', 'A'],
        ['a2', 'A'],
        ['a3', 'A'],
        ['c1', 'C'],
        ['b1', 'B'],
        ['b2', 'B'],
      ]),
    ).map((e) => e.id);
    expect(order).toEqual(['a1', 'c1', 'b1', 'a2', 'b2', 'a3']);
  });

  it('starts a late request at the head of the queue, not at the tags already served', () => {
    // a0..a3 were served; the queue's head now carries tag 4, so B's request lands next to it.
    const entries = [4, 5, 6].map((tag) => ({ ...entry(`a${tag}`, 'A', tag), fairTag: tag }));
    const late = { ...entry('b', 'B', 10), fairTag: nextFairTag(4, null) };
    expect(fairOrder([...entries, late]).map((e) => e.id)).toEqual(['a4', 'b', 'a5', 'a6']);
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

  it('keeps a node held for a pinned request only from requests of the same kind', () => {
    const holds = new NodeHolds();
    expect(holds.avoiding({ gpu: [] })).toBeUndefined();
    holds.hold('a', { gpu: [{ type: 'T4', count: 1 }] });
    holds.hold('b', { gpu: [] });
    expect(holds.avoiding({ gpu: [{ type: 'T4', count: 2 }] })).toEqual(new Set(['a']));
    expect(holds.avoiding({ gpu: [{ type: 'H100', count: 1 }] })).toBeUndefined();
    expect(holds.avoiding({ gpu: [] })).toEqual(new Set(['b']));
    expect(
      holds.avoiding({
        gpu: [
          { type: 'H100', count: 1 },
          { type: 'T4', count: 1 },
        ],
      }),
    ).toEqual(new Set(['a']));
  });

  it('treats a pinned request as competing for its node only', () => {
    expect(queueKeys({ gpu: [], pinnedNodeId: 'n1' })).toEqual(['node:n1']);
    expect(queueKeys({ gpu: [{ type: 'T4', count: 1 }], pinnedNodeId: 'n1' })).toEqual(['node:n1']);
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
