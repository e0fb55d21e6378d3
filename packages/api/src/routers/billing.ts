import { can } from '@kiln/accounts';
import { changePlan, currentPlanUsage, reportCsv, runningCosts, setBudget, usageReport } from '@kiln/billing';
import type { Db } from '@kiln/db';
import { z } from 'zod';
import { requireBilling } from '../services.ts';
import { notebookProcedure, router, workspaceProcedure } from '../trpc.ts';

const MAX_BUDGET_CENTS = 100_000_000; // $1,000,000 a month

/** Admins and owners see and manage the workspace's billing; other members see their own usage. */
export const billingRouter = router({
  usage: workspaceProcedure('workspace.read').query(({ ctx, input }) =>
    usageReport(ctx.db, input.workspaceId, {
      memberId: can(ctx.member.role, 'billing.manage') ? undefined : ctx.user.id,
    }),
  ),

  exportCsv: workspaceProcedure('workspace.read').query(async ({ ctx, input }) => {
    const report = await usageReport(ctx.db, input.workspaceId, {
      memberId: can(ctx.member.role, 'billing.manage') ? undefined : ctx.user.id,
    });
    return { filename: `kiln-usage-${report.period.key}.csv`, csv: reportCsv(report) };
  }),

  /** What this notebook's running kernel costs: rate per hour and cost since it began running. */
  kernelCost: notebookProcedure('workspace.read').query(async ({ ctx, input }) => {
    const now = new Date();
    const running = (await runningCosts(ctx.db, input.workspaceId, now)).filter(
      (row) => row.ownerId === ctx.notebook.id,
    );
    return {
      ratePerHourMicros: running.reduce((sum, row) => sum + row.ratePerHourMicros, 0),
      costMicros: running.reduce((sum, row) => sum + row.costMicros, 0),
      running: running.length > 0,
      at: now.toISOString(),
    };
  }),

  setBudget: workspaceProcedure('billing.manage')
    .input(
      z.object({
        amountCents: z
          .number('Budget must be a number')
          .int('Budget must be whole cents')
          .min(1, 'Budget must be more than zero')
          .max(MAX_BUDGET_CENTS, 'Budget must be at most $1,000,000')
          .nullable(),
        hardCap: z.boolean('Hard cap must be true or false'),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      await setBudget(
        ctx.db,
        input.workspaceId,
        input.amountCents === null
          ? null
          : { amountMicros: BigInt(input.amountCents) * 10_000n, hardCap: input.hardCap },
      );
      return { ok: true as const };
    }),

  changePlan: workspaceProcedure('billing.manage')
    .input(
      z.object({
        plan: z.enum(['STARTER'], 'Only a move to Starter is made here; upgrades go through Checkout'),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      await changePlan(
        ctx.db,
        input.workspaceId,
        input.plan,
        await currentPlanUsage(ctx.db, input.workspaceId),
      );
      return { plan: input.plan };
    }),

  /** Where an admin pays to upgrade to Team: a Stripe Checkout page (the local server's, without a key). */
  checkout: workspaceProcedure('billing.manage').mutation(async ({ ctx, input }) => {
    const back = `${ctx.options.appUrl}/w/${await workspaceSlug(ctx.db, input.workspaceId)}/usage`;
    const url = await requireBilling(ctx.options).checkoutUrl(ctx.db, input.workspaceId, {
      successUrl: `${back}?upgraded=1`,
      cancelUrl: back,
    });
    return { url };
  }),

  /** The Customer Portal: payment methods, invoices, cancelling. */
  portal: workspaceProcedure('billing.manage').mutation(async ({ ctx, input }) => {
    const back = `${ctx.options.appUrl}/w/${await workspaceSlug(ctx.db, input.workspaceId)}/usage`;
    return { url: await requireBilling(ctx.options).portalUrl(ctx.db, input.workspaceId, back) };
  }),
});

async function workspaceSlug(db: Db, workspaceId: string): Promise<string> {
  const workspace = await db.workspace.findUniqueOrThrow({
    where: { id: workspaceId },
    select: { slug: true },
  });
  return workspace.slug;
}
