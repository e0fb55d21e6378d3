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
  private count = 0;

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
    instance.channel.command({ op: 'init', env });
    return instance;
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
      list.push(this.options.launch(workspaceId, resources).catch(() => undefined));
      this.count++;
    }
    if (list.length > 0) this.spares.set(key, list);
  }

  private evictOldest(): void {
    for (const [key, list] of this.spares) {
      const spare = list.shift();
      if (list.length === 0) this.spares.delete(key);
      if (!spare) continue;
      this.count--;
      void spare
        .then((instance) => (instance ? this.options.destroy(instance) : undefined))
        .catch(() => undefined);
      return;
    }
  }

  async drain(destroy: (instance: SandboxInstance) => Promise<void>): Promise<void> {
    const all = [...this.spares.values()].flat();
    this.spares.clear();
    this.count = 0;
    await Promise.all(
      all.map(async (spare) => {
        const instance = await spare;
        if (instance) await destroy(instance);
      }),
    );
  }
}
