import type { Scheduler } from '@kiln/scheduler';

/**
 * What a notebook says while its kernel's machine is lost but may come back with it (a gateway
 * restart slower than the node timeout): why, how long Kiln waits, and that cells run meanwhile wait.
 */
export function kernelAwayReason(lossReason: string, lostGiveUpMs: number): string {
  const seconds = Math.round(lostGiveUpMs / 1000);
  const wait = seconds >= 120 ? `${Math.round(seconds / 60)} min` : `${seconds} s`;
  return `The machine running this kernel stopped answering (${lossReason}). Kiln waits up to ${wait} for it to come back with the kernel and its variables; cells run meanwhile wait for it.`;
}

/**
 * Why a kernel waits for its lost machine, from the scheduler's database (the container is `lost`
 * until its node comes back with it or it is given up), or null. A restarted web process asks this
 * before re-attaching, so it keeps waiting instead of giving the kernel up when no gateway answers.
 */
export function createKernelAway(
  scheduler: Pick<Scheduler, 'get'>,
  lostGiveUpMs: number,
): (kernelId: string) => Promise<string | null> {
  return async (kernelId) => {
    const view = await scheduler.get(kernelId).catch(() => null);
    if (view?.state !== 'lost' || view.kind !== 'kernel') return null;
    return kernelAwayReason(view.stop?.reason ?? 'its node stopped answering', lostGiveUpMs);
  };
}
