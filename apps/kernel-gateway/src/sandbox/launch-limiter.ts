/** Runs at most `limit` tasks at once; the rest wait their turn in arrival order. */
export interface LaunchLimiter {
  run<T>(task: () => Promise<T>): Promise<T>;
  readonly active: number;
  readonly waiting: number;
}

/**
 * Bounds concurrent sandbox launches. A restore or boot is CPU-bound (the sandbox has no quota while it
 * starts); eight at once on two cores all finish late and the first kernel waits for the last, while a
 * few at a time hand out ready kernels as they come.
 */
export function createLaunchLimiter(limit: number): LaunchLimiter {
  if (!Number.isInteger(limit) || limit < 1)
    throw new Error(`launch limit must be a positive integer (got ${limit})`);
  let active = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    active--;
    waiting.shift()?.();
  };
  return {
    async run(task) {
      if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
      active++;
      try {
        return await task();
      } finally {
        release();
      }
    },
    get active() {
      return active;
    },
    get waiting() {
      return waiting.length;
    },
  };
}
