import type { Scheduler } from '@kiln/scheduler';

export interface LostKernelsOptions {
  scheduler: Pick<Scheduler, 'get'>;
  /** How often the kernels' containers are looked at. */
  intervalMs: number;
  /** Its node came back with it (the container runs or sleeps again): connect the notebook again. */
  onBack(notebookId: string, kernelId: string): Promise<unknown> | undefined;
  /** It will not come back (given up, refused, or stopped): the notebook says why. */
  onGone(notebookId: string, kernelId: string, reason: string): void;
  onError?(error: unknown): void;
}

export interface LostKernels {
  /** The scheduler lost `kernelId`'s node: watch for it to come back or be given up. */
  add(notebookId: string, kernelId: string): void;
  /** The notebook's kernel waiting for its node, if any. */
  of(notebookId: string): string | undefined;
  /** One look at every lost kernel (the interval runs this). */
  check(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The kernels of this web process's notebooks whose node the scheduler declared lost, per notebook.
 * A gateway restart slower than the node timeout brings them back (the scheduler revives their
 * containers when it registers again): then the notebook's session re-attaches. Kept in memory.
 */
export function createLostKernels(options: LostKernelsOptions): LostKernels {
  const lost = new Map<string, string>();
  const onError = options.onError ?? ((error) => console.error('[lost kernels]', error));
  let checking: Promise<void> | null = null;

  async function look(notebookId: string, kernelId: string): Promise<void> {
    const view = await options.scheduler.get(kernelId).catch((error: unknown) => {
      onError(error);
      return null;
    });
    if (!view || lost.get(notebookId) !== kernelId) return;
    if (view.state === 'running' || view.state === 'hibernated') {
      lost.delete(notebookId);
      await options.onBack(notebookId, kernelId);
    } else if (view.state !== 'lost') {
      lost.delete(notebookId);
      options.onGone(notebookId, kernelId, view.stop?.reason ?? `The kernel is ${view.state}`);
    }
  }

  function check(): Promise<void> {
    checking ??= (async () => {
      for (const [notebookId, kernelId] of [...lost]) {
        await look(notebookId, kernelId).catch(onError);
      }
    })().finally(() => {
      checking = null;
    });
    return checking;
  }

  const timer = setInterval(() => void check(), options.intervalMs);
  timer.unref();
  return {
    add(notebookId, kernelId) {
      lost.set(notebookId, kernelId);
    },
    of: (notebookId) => lost.get(notebookId),
    check,
    async close() {
      clearInterval(timer);
      await checking;
    },
  };
}
