import { costMicros, DEFAULT_PRICE_BOOK, toMillicores } from '@kiln/billing';
import { GPU_TYPE_NAMES, PLAN_NAMES } from '@kiln/scheduler';
import type { Context } from '../context.ts';
import { machinesOf, requireExecution } from '../services.ts';
import { notebookProcedure } from '../trpc.ts';

type Resources = { cpu: number; memoryMiB: number; gpu: string[] };

/** Throws the scheduler's refusal (plan, operator maximum, no node could ever run it) for `resources`. */
export async function checkResources(ctx: Context, workspaceId: string, resources: Resources): Promise<void> {
  const assessment = await machinesOf({ ...ctx.options, db: ctx.db }).assess(workspaceId, asked(resources));
  if (assessment.verdict === 'refused') throw assessment.error;
}

/** A notebook's resources as the scheduler takes them (no GPU is `null`, not an empty list). */
function asked(resources: Resources) {
  return { ...resources, gpu: resources.gpu.length === 0 ? null : resources.gpu };
}

/** Dollars per hour of a machine, from the billing price book. */
function pricePerHour(resources: Resources): number {
  const first = resources.gpu[0];
  const [type, count] = first ? first.split(':') : [];
  const micros = costMicros(
    DEFAULT_PRICE_BOOK,
    {
      cpuMillicores: toMillicores(resources.cpu),
      memoryMiB: resources.memoryMiB,
      gpu: type ? { type, count: Number(count ?? 1) } : null,
    },
    3_600_000,
  );
  return Math.round(Number(micros) / 10_000) / 100;
}

/** Machine procedures of the `notebook` router. */
export const notebookMachineProcedures = {
  /**
   * The machine picker's choices at the notebook's CPU and memory: no GPU and each GPU type, each with
   * whether it starts now, would wait (and why) or is refused (and why), and its price per hour.
   */
  machines: notebookProcedure('notebook.run').query(async ({ ctx }) => {
    const workspaceId = ctx.member.workspaceId;
    const { cpu, memoryMiB } = ctx.notebook;
    const machines = machinesOf({ ...ctx.options, db: ctx.db });
    const workspace = await ctx.db.workspace.findUniqueOrThrow({ where: { id: workspaceId } });
    const choices = [];
    for (const gpu of [null, ...GPU_TYPE_NAMES]) {
      const resources = { cpu, memoryMiB, gpu: gpu ? [gpu] : [] };
      const assessment = await machines.assess(workspaceId, asked(resources));
      choices.push({
        gpu,
        verdict: assessment.verdict,
        reason: assessment.reason,
        pricePerHour: pricePerHour(resources),
      });
    }
    return { plan: PLAN_NAMES[workspace.plan], cpu, memoryMiB, choices };
  }),

  /** Gives up a kernel start that waits for a machine; its cells stop waiting. */
  cancelKernelStart: notebookProcedure('notebook.run').mutation(async ({ ctx }) => ({
    cancelled: await requireExecution(ctx.options).cancelStart(ctx.notebook.id),
  })),
};
