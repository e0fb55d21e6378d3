import type { KernelSandbox, SandboxDriver } from '../sandbox/types.ts';
import type { AdoptedKernelState, Kernel } from './kernel.ts';
import type { KernelRecord, KernelRecords } from './kernel-records.ts';

/** What re-adoption did with each kernel the previous gateway process left. */
export interface AdoptionTally {
  adopted: string[];
  stopped: { id: string; reason: string }[];
}

/**
 * What re-adoption did at once (`adopted`: the kernels exist, their agents may still be reconnecting),
 * and `settled`, the final tally once every agent answered or its kernel was stopped.
 */
export interface AdoptionResult extends AdoptionTally {
  settled: Promise<AdoptionTally>;
}

/** Kernels the previous gateway process left that could not be taken back, and why (bounded). */
export class GoneKernels {
  private readonly gone = new Map<string, { workspaceId: string; reason: string }>();

  remember(record: Pick<KernelRecord, 'id' | 'workspaceId'>, reason: string): void {
    if (this.gone.size >= 10_000) this.gone.delete(this.gone.keys().next().value as string);
    this.gone.set(record.id, { workspaceId: record.workspaceId, reason });
  }

  /** The reason, when `id` was the workspace's kernel (another workspace's looks like no kernel at all). */
  reason(id: string, workspaceId?: string): string | undefined {
    const gone = this.gone.get(id);
    return gone && (workspaceId === undefined || gone.workspaceId === workspaceId) ? gone.reason : undefined;
  }
}

function stoppedBecause(error: unknown): string {
  const why = error instanceof Error ? error.message : String(error);
  return `The kernel gateway restarted and could not take this kernel back (${why}), so it was stopped and its variables are lost. Run the cell again to start a new kernel.`;
}

/**
 * Takes back each recorded kernel whose sandbox the driver can re-adopt (`create` builds its Kernel) and
 * resolves without waiting for their agents: each reconnects in the background, and one that does not
 * (within `agentTimeoutMs`) is stopped by `abandon` with the reason, remembered in `gone`. The rest are
 * forgotten and remembered in `gone` at once. Sandboxes no record claims are stopped in the background.
 */
export async function adoptKernels(options: {
  driver: SandboxDriver;
  records: KernelRecords | undefined;
  gone: GoneKernels;
  create: (record: KernelRecord, sandbox: KernelSandbox, adopted: AdoptedKernelState) => Kernel;
  abandon: (record: KernelRecord, kernel: Kernel, reason: string) => Promise<void>;
  agentTimeoutMs?: number;
  /** Told of each kernel stopped, as it is (at once, or when its agent failed to come back). */
  onStopped?: (id: string, reason: string) => void;
}): Promise<AdoptionResult> {
  const { driver, records } = options;
  const now: AdoptionTally = { adopted: [], stopped: [] };
  const final: AdoptionTally = { adopted: [], stopped: [] };
  const stop = async (record: KernelRecord, reason: string, tally: AdoptionTally) => {
    options.gone.remember(record, reason);
    await records?.remove(record.id);
    tally.stopped.push({ id: record.id, reason });
    options.onStopped?.(record.id, reason);
  };
  const reconnecting: Promise<void>[] = [];
  await Promise.all(
    ((await records?.list()) ?? []).map(async (record) => {
      try {
        if (!driver.adopt) throw new Error('this gateway’s sandboxes cannot be taken over');
        const adopted = await driver.adopt(record.sandboxId, { agentTimeoutMs: options.agentTimeoutMs });
        const kernel = options.create(record, adopted.sandbox, {
          ...(adopted.reconnect ? {} : { busy: false }),
          hibernated: adopted.hibernated,
          sessionId: record.sessionId,
          pausedReason: record.pausedReason ?? null,
        });
        now.adopted.push(record.id);
        if (!adopted.reconnect) {
          final.adopted.push(record.id);
          return;
        }
        // Only now: the kernel listens to the sandbox, so what the agent sends first is not lost.
        const agent = adopted.reconnect().catch((error: unknown) => {
          throw new Error(stoppedBecause(error));
        });
        kernel.reconnecting(agent);
        reconnecting.push(
          agent.then(
            () => void final.adopted.push(record.id),
            async (error: Error) => {
              const reason = error.message;
              final.stopped.push({ id: record.id, reason });
              await options.abandon(record, kernel, reason).catch(() => undefined);
              options.onStopped?.(record.id, reason);
            },
          ),
        );
      } catch (error) {
        const reason = stoppedBecause(error);
        await stop(record, reason, now);
        final.stopped.push({ id: record.id, reason });
      }
    }),
  );
  reconnecting.push(
    Promise.resolve(driver.reapUnadopted?.()).then(
      () => undefined,
      (error: unknown) => console.error('[kernel-gateway] stopping unclaimed sandboxes failed:', error),
    ),
  );
  return { ...now, settled: Promise.all(reconnecting).then(() => final) };
}
