import type { GpuChoice } from '../resource-request.ts';

/** A waiting request as the queue policy sees it. */
export interface QueuedEntry {
  id: string;
  workspaceId: string;
  /** When it started waiting (ms since the epoch). */
  queuedAt: number;
  /** Its place in the fair order across workspaces, from `nextFairTag` when it started waiting. */
  fairTag: number;
  cpu: number;
  memoryMiB: number;
  gpu: readonly GpuChoice[];
  pinnedNodeId?: string | null;
}

/**
 * Orders waiting requests fairly across workspaces, by their fair tags (see `nextFairTag`), earlier
 * waits first among equal tags. Tags interleave workspaces: a burst from one workspace takes tags
 * 0, 1, 2, ... while another workspace's single request, arriving later, takes the tag at the head of
 * the queue, so it goes right after the request being served instead of after the whole burst.
 */
export function fairOrder<T extends QueuedEntry>(entries: readonly T[]): T[] {
  return [...entries].sort((a, b) => a.fairTag - b.fairTag || byArrival(a, b));
}

/**
 * The fair tag of a new waiting request (start-time fair queueing): the queue's virtual time (the
 * lowest tag still waiting, or the last tag handed out when none waits), or one past its workspace's
 * last waiting request, whichever is later.
 */
export function nextFairTag(virtualTime: number, workspaceBacklogTag: number | null): number {
  return workspaceBacklogTag === null ? virtualTime : Math.max(virtualTime, workspaceBacklogTag + 1);
}

function byArrival(a: QueuedEntry, b: QueuedEntry): number {
  return a.queuedAt - b.queuedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * What a request competes for: its GPU types (CPU-only requests compete for "cpu"), or only its node
 * when pinned to one (a hibernated kernel's, or its volumes'). A request that cannot be placed holds
 * back later requests sharing a key, so small requests cannot keep overtaking a large one that waits
 * for a whole node; requests for other types go on. A pinned request holds back nothing elsewhere:
 * instead its node is kept from unpinned requests for the same kind while it waits (`NodeHolds`).
 */
export function queueKeys(entry: Pick<QueuedEntry, 'gpu' | 'pinnedNodeId'>): string[] {
  if (entry.pinnedNodeId) return [`node:${entry.pinnedNodeId}`];
  return kindKeys(entry);
}

/** What a request wants regardless of where: its GPU types, or "cpu" for a CPU-only one. */
export function kindKeys(entry: Pick<QueuedEntry, 'gpu'>): string[] {
  return entry.gpu.length === 0 ? ['cpu'] : entry.gpu.map((choice) => `gpu:${choice.type}`);
}

/**
 * Nodes held for requests pinned to them (node id → what they wait for, as `kindKeys`). `avoiding`
 * gives the nodes a request must leave alone: those held for a request wanting the same kind of thing
 * (a T4 waiting on node a keeps other T4 requests off a, not CPU-only ones).
 */
export class NodeHolds {
  private readonly holds = new Map<string, Set<string>>();

  hold(nodeId: string, entry: Pick<QueuedEntry, 'gpu'>): void {
    const keys = this.holds.get(nodeId) ?? new Set<string>();
    for (const key of kindKeys(entry)) keys.add(key);
    this.holds.set(nodeId, keys);
  }

  avoiding(entry: Pick<QueuedEntry, 'gpu'>): Set<string> | undefined {
    const mine = kindKeys(entry);
    const nodes = [...this.holds].filter(([, keys]) => mine.some((key) => keys.has(key)));
    return nodes.length === 0 ? undefined : new Set(nodes.map(([nodeId]) => nodeId));
  }
}

/** For each waiting request (in fair order), how many requests ahead of it compete for the same thing. */
export function queueAhead<T extends QueuedEntry>(ordered: readonly T[]): Map<string, number> {
  const ahead = new Map<string, number>();
  // Earlier requests grouped by their set of keys: few distinct sets, however long the queue.
  const groups = new Map<string, { keys: string[]; count: number }>();
  for (const entry of ordered) {
    const keys = queueKeys(entry);
    let count = 0;
    for (const group of groups.values()) {
      if (group.keys.some((key) => keys.includes(key))) count += group.count;
    }
    ahead.set(entry.id, count);
    const signature = [...keys].sort().join(',');
    const group = groups.get(signature);
    if (group) group.count++;
    else groups.set(signature, { keys, count: 1 });
  }
  return ahead;
}

/** Words for what a request waits for: "an H100", "2 × H100 or an A100-80GB", "16 CPUs and 64 GiB". */
export function describeWant(entry: Pick<QueuedEntry, 'cpu' | 'memoryMiB' | 'gpu'>): string {
  if (entry.gpu.length === 0) {
    return `${formatCpu(entry.cpu)} and ${formatMemory(entry.memoryMiB)} of memory`;
  }
  return entry.gpu
    .map((choice) =>
      choice.count === 1 ? `${article(choice.type)} ${choice.type}` : `${choice.count} × ${choice.type}`,
    )
    .join(' or ');
}

function article(type: string): string {
  // Read aloud, these start with a vowel sound: "an H100", "an A10", "an L4", "an RTX-PRO-6000".
  return /^[AEFHILMNORSX]/.test(type) ? 'an' : 'a';
}

export function formatCpu(cpu: number): string {
  return `${Number(cpu.toFixed(3))} ${cpu === 1 ? 'CPU' : 'CPUs'}`;
}

export function formatMemory(memoryMiB: number): string {
  return memoryMiB % 1024 === 0 ? `${memoryMiB / 1024} GiB` : `${memoryMiB} MiB`;
}
