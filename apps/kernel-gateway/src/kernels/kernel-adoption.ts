import type { KernelSandbox, SandboxDriver } from '../sandbox/types.ts';
import type { AdoptedKernelState } from './kernel.ts';
import type { KernelRecord, KernelRecords } from './kernel-records.ts';

/** What re-adoption did with each kernel the previous gateway process left. */
export interface AdoptionResult {
  adopted: string[];
  stopped: { id: string; reason: string }[];
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

/**
 * Takes back each recorded kernel whose sandbox the driver can re-adopt (`create` builds its Kernel);
 * the rest are forgotten and remembered in `gone` with the reason. Sandboxes no record claims are stopped.
 */
export async function adoptKernels(options: {
  driver: SandboxDriver;
  records: KernelRecords | undefined;
  gone: GoneKernels;
  create: (record: KernelRecord, sandbox: KernelSandbox, adopted: AdoptedKernelState) => void;
  helloTimeoutMs?: number;
}): Promise<AdoptionResult> {
  const { driver, records } = options;
  const result: AdoptionResult = { adopted: [], stopped: [] };
  await Promise.all(
    ((await records?.list()) ?? []).map(async (record) => {
      try {
        if (!driver.adopt) throw new Error('this gateway’s sandboxes cannot be taken over');
        const adopted = await driver.adopt(record.sandboxId, { helloTimeoutMs: options.helloTimeoutMs });
        const { busy, hibernated } = adopted;
        options.create(record, adopted.sandbox, {
          busy,
          hibernated,
          sessionId: record.sessionId,
          pausedReason: record.pausedReason ?? null,
        });
        result.adopted.push(record.id);
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        const reason = `The kernel gateway restarted and could not take this kernel back (${why}), so it was stopped and its variables are lost. Run the cell again to start a new kernel.`;
        options.gone.remember(record, reason);
        await records?.remove(record.id);
        result.stopped.push({ id: record.id, reason });
      }
    }),
  );
  await driver.reapUnadopted?.();
  return result;
}
