import { costMicros, DEFAULT_PRICE_BOOK, toMillicores } from '@kiln/billing';
import { GPU_TYPE_NAMES, PLAN_NAMES } from '@kiln/scheduler';
import type { Context } from '../context.ts';
import { imagesOf, machinesOf, requireExecution } from '../services.ts';
import { notebookProcedure } from '../trpc.ts';

type Resources = { cpu: number; memoryMiB: number; gpu: string[] };

/**
 * Throws the scheduler's refusal (plan, operator maximum, no node could ever run it, not the node that
 * holds the notebook's volumes and /workspace) for `resources`.
 */
export async function checkResources(
  ctx: Context,
  workspaceId: string,
  notebookId: string,
  resources: Resources,
): Promise<void> {
  const machines = machinesOf({ ...ctx.options, db: ctx.db });
  const volumes = await notebookVolumeIds(ctx, notebookId);
  const assessment = await machines.assess(workspaceId, asked(resources), { volumes, mountsWorkspace: true });
  if (assessment.verdict === 'refused') throw assessment.error;
}

/** The volumes the notebook's kernel mounts: the scheduler runs it only on their node. */
async function notebookVolumeIds(ctx: Context, notebookId: string): Promise<string[]> {
  const uses = await ctx.db.notebookVolume.findMany({ where: { notebookId }, select: { volumeId: true } });
  return uses.map((use) => use.volumeId);
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

/**
 * The machine picker's choices at `machine`'s CPU and memory: no GPU and each GPU type, each with whether
 * it starts now, would wait (and why) or is refused (and why), and its price per hour; and the images.
 * `volumes` (ids of the workspace's volumes) pin it to their node.
 */
export async function machineChoices(
  ctx: Context,
  workspaceId: string,
  machine: { cpu: number; memoryMiB: number },
  volumes: string[],
) {
  const { cpu, memoryMiB } = machine;
  const machines = machinesOf({ ...ctx.options, db: ctx.db });
  const workspace = await ctx.db.workspace.findUniqueOrThrow({ where: { id: workspaceId } });
  const choices = [];
  for (const gpu of [null, ...GPU_TYPE_NAMES]) {
    const resources = { cpu, memoryMiB, gpu: gpu ? [gpu] : [] };
    // Kernels and endpoint replicas always mount /workspace: they run on the node that holds it.
    const assessment = await machines.assess(workspaceId, asked(resources), {
      volumes,
      mountsWorkspace: true,
    });
    choices.push({
      gpu,
      verdict: assessment.verdict,
      reason: assessment.reason,
      pricePerHour: pricePerHour(resources),
    });
  }
  // The image choices: Kiln's base image (null) and the workspace's images that kernels can start on.
  const images = (await imagesOf({ ...ctx.options, db: ctx.db }).list(workspaceId)).map((image) => ({
    id: image.id,
    name: image.name,
    state: image.state,
    usable: image.usable,
  }));
  return { plan: PLAN_NAMES[workspace.plan], cpu, memoryMiB, choices, images };
}

/** Machine procedures of the `notebook` router. */
export const notebookMachineProcedures = {
  /** The machine picker's choices (machineChoices) at the notebook's CPU and memory. */
  machines: notebookProcedure('notebook.run').query(async ({ ctx }) => {
    const volumes = await notebookVolumeIds(ctx, ctx.notebook.id);
    const choices = await machineChoices(ctx, ctx.member.workspaceId, ctx.notebook, volumes);
    return { ...choices, imageId: ctx.notebook.imageId };
  }),

  /** Gives up a kernel start that waits for a machine; its cells stop waiting. */
  cancelKernelStart: notebookProcedure('notebook.run').mutation(async ({ ctx }) => ({
    cancelled: await requireExecution(ctx.options).cancelStart(ctx.notebook.id),
  })),
};
