import type { ExecutionService, ResumeResult } from './types.ts';

export interface KernelTakeoverOptions {
  /** How often to look for kernels of web processes whose lease ran out (a fraction of the lease's time). */
  intervalMs: number;
  /** Told what was taken over, when anything was. */
  onTakenOver?: (results: ResumeResult[]) => void;
  onError?: (error: unknown) => void;
}

/**
 * While this web process runs, takes over the kernels of other web processes that died after it
 * started (their lease ran out): their running cells and queues go on here, as after a restart.
 * `stop()` before the service is detached or disposed, and it waits for a pass in flight.
 */
export function startKernelTakeover(
  service: Pick<ExecutionService, 'takeOver'>,
  options: KernelTakeoverOptions,
): { stop(): Promise<void> } {
  let pass: Promise<void> | null = null;
  const timer = setInterval(() => {
    pass ??= service
      .takeOver()
      .then((results) => {
        if (results.length > 0) options.onTakenOver?.(results);
      })
      .catch((error: unknown) => options.onError?.(error))
      .finally(() => {
        pass = null;
      });
  }, options.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await pass;
    },
  };
}
