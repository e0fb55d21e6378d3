import type { SandboxInstance } from './sandbox-instance.ts';
import type { ResourceRequest } from './types.ts';

interface WarmPoolOptions {
  /** Most spare sandboxes kept at once, over all workspaces; 0 turns the pool off. */
  size: number;
  /** Spares kept per workspace (and size), so a burst of kernels in one workspace finds several. Default 1. */
  perWorkspace?: number;
  launch(workspaceId: string, resources: ResourceRequest): Promise<SandboxInstance>;
  destroy(instance: SandboxInstance): Promise<void>;
}

const keyOf = (workspaceId: string, resources: ResourceRequest) =>
  `${workspaceId}|${resources.cpu}|${resources.memoryMiB}`;

/**
 * Spare sandboxes for recently used workspaces. A sandbox's /workspace mount is fixed when it boots, so
 * spares are per workspace and size: the next kernel or restart there takes one that is already running.
 */
export class WarmPool {
  private readonly spares = new Map<string, Promise<SandboxInstance | undefined>[]>();
  /** Spares that are up and not yet taken. */
  private readonly ready = new Set<SandboxInstance>();
  private count = 0;
  /** Refills waiting for the kernel just handed out to get going, per workspace and size. */
  private readonly later = new Map<string, NodeJS.Timeout>();

  constructor(private readonly options: WarmPoolOptions) {}

  /** Takes a ready spare (waiting for one still booting) and hands it the kernel's env. */
  async take(
    workspaceId: string,
    resources: ResourceRequest,
    env: Record<string, string>,
  ): Promise<SandboxInstance | undefined> {
    if (resources.gpu && (!Array.isArray(resources.gpu) || resources.gpu.length > 0)) return undefined;
    const list = this.spares.get(keyOf(workspaceId, resources));
    const next = list?.shift();
    if (!next) return undefined;
    this.count--;
    const instance = await next;
    if (!instance) return undefined;
    this.ready.delete(instance);
    instance.container.learnSecrets(env);
    instance.channel.command({ op: 'init', env });
    return instance;
  }

  /** Whether a spare (up or still starting) waits for this workspace and size. */
  has(workspaceId: string, resources: ResourceRequest): boolean {
    return (this.spares.get(keyOf(workspaceId, resources))?.length ?? 0) > 0;
  }

  /**
   * The spares that are up and waiting: the memory they use now is memory no kernel may count on, so the
   * scheduler node reports it (their limits would be wrong: a spare's kernel brings its own container).
   */
  readySpares(): SandboxInstance[] {
    return [...this.ready];
  }

  /** Tops up this workspace's spares in the background, evicting the least recently used workspace's. */
  refill(workspaceId: string, resources: ResourceRequest): void {
    if (this.options.size === 0) return;
    if (resources.gpu && (!Array.isArray(resources.gpu) || resources.gpu.length > 0)) return;
    const key = keyOf(workspaceId, resources);
    const list = this.spares.get(key) ?? [];
    const wanted = Math.min(this.options.perWorkspace ?? 1, this.options.size);
    // Most recently used last, so the oldest entry is the least recently used workspace; taken out of
    // the map meanwhile so eviction never picks this workspace's own spares.
    this.spares.delete(key);
    while (list.length < wanted) {
      if (this.count >= this.options.size) this.evictOldest();
      if (this.count >= this.options.size) break;
      list.push(
        this.options
          .launch(workspaceId, resources)
          .then((instance) => {
            this.ready.add(instance);
            return instance;
          })
          .catch(() => undefined),
      );
      this.count++;
    }
    if (list.length > 0) this.spares.set(key, list);
  }

  /**
   * Refills after `delayMs`: restoring a spare takes both cores of a small host for most of a second, and
   * started at once it lands on the kernel just handed out while its client connects and sends its first
   * requests. Another call for the same workspace and size before then starts the wait over.
   */
  refillLater(workspaceId: string, resources: ResourceRequest, delayMs: number): void {
    if (delayMs <= 0) {
      this.refill(workspaceId, resources);
      return;
    }
    const key = keyOf(workspaceId, resources);
    clearTimeout(this.later.get(key));
    const timer = setTimeout(() => {
      this.later.delete(key);
      this.refill(workspaceId, resources);
    }, delayMs);
    timer.unref();
    this.later.set(key, timer);
  }

  private evictOldest(): void {
    for (const [key, list] of this.spares) {
      const spare = list.shift();
      if (list.length === 0) this.spares.delete(key);
      if (!spare) continue;
      this.count--;
      void spare
        .then((instance) => {
          if (!instance) return undefined;
          this.ready.delete(instance);
          return this.options.destroy(instance);
        })
        .catch(() => undefined);
      return;
    }
  }

  async drain(destroy: (instance: SandboxInstance) => Promise<void>): Promise<void> {
    for (const timer of this.later.values()) clearTimeout(timer);
    this.later.clear();
    const all = [...this.spares.values()].flat();
    this.spares.clear();
    this.ready.clear();
    this.count = 0;
    await Promise.all(
      all.map(async (spare) => {
        const instance = await spare;
        if (instance) await destroy(instance);
      }),
    );
  }
}
