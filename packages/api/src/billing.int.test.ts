import { randomUUID } from 'node:crypto';
import type { TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTeam, withDatabase } from '../test/harness.ts';
import { createTestServices, type TestServices } from '../test/services.ts';

let t: TestDatabase;
let services: TestServices;
beforeAll(async () => {
  t = await withDatabase({ max: 6 });
  services = createTestServices();
});
afterAll(async () => {
  await services?.close();
  await t?.drop();
});

/** A finished slice in the ledger: `hours` of one H100 (or a costlier rate) by `memberId`, ending now. */
async function usage(
  workspaceId: string,
  memberId: string,
  hours: number,
  ownerId = 'nb',
  gpuRateFemto = 1_097_000_000n,
) {
  const end = new Date();
  const start = new Date(
    Math.max(end.getTime() - hours * 3600_000, Date.UTC(end.getUTCFullYear(), end.getUTCMonth(), 1)),
  );
  await t.db.usageSlice.create({
    data: {
      id: `${randomUUID()}:2`,
      workspaceId,
      containerId: randomUUID(),
      periodSeq: 2,
      kind: 'kernel',
      ownerId,
      memberId,
      gpuType: 'H100',
      gpuCount: 1,
      cpuMillicores: 1000,
      memoryMiB: 1024,
      priceVersionId: 1,
      gpuRateFemto,
      cpuRateFemto: 13_100_000n,
      memRateFemto: 2_220_000n,
      startAt: start,
      heartbeatAt: end,
      endAt: end,
      endReason: 'stopped',
    },
  });
  return end.getTime() - start.getTime();
}

describe('billing through the API', () => {
  it('admins see the workspace, members only their own usage', async () => {
    const team = await createTeam(t.db, services.services);
    await usage(team.workspace.id, team.users.editor.id, 1, 'nb-editor');
    await usage(team.workspace.id, team.users.viewer.id, 2, 'nb-viewer');
    const admin = await team.browsers.admin.api.billing.usage({ workspaceId: team.workspace.id });
    expect(admin.scope).toBe('workspace');
    expect(admin.byMember.map((row) => row.key).sort()).toEqual(
      [team.users.editor.id, team.users.viewer.id].sort(),
    );
    expect(admin.invoice.usageCents).toBeGreaterThan(0);
    const editor = await team.browsers.editor.api.billing.usage({ workspaceId: team.workspace.id });
    expect(editor.scope).toBe('member');
    expect(editor.byNotebook.map((row) => row.key)).toEqual(['nb-editor']);
    expect(editor.usage.total).toBeLessThan(admin.usage.total);
    expect(editor.invoice.lines).toEqual([]);
    const csv = await team.browsers.editor.api.billing.exportCsv({ workspaceId: team.workspace.id });
    expect(csv.csv.split('\n')[0]).toBe('date,gpu_usd,cpu_usd,memory_usd,total_usd');
  });

  it('a Starter workspace past its credits cannot run cells, and is told why', async () => {
    const team = await createTeam(t.db, services.services);
    // A minute at $1 per millisecond of GPU: far past $30 even a second into the month.
    await usage(team.workspace.id, team.users.editor.id, 1 / 60, 'nb', 1_000_000_000_000n);
    const report = await team.browsers.owner.api.billing.usage({ workspaceId: team.workspace.id });
    expect(report.check).toMatchObject({ allowed: false, code: 'CREDITS_EXHAUSTED' });
    expect(report.balanceMicros).toBeLessThan(0);
    const run = team.browsers.editor.api.notebook.run({
      workspaceId: team.workspace.id,
      notebookId: team.notebookId,
      mode: 'all',
    });
    await expect(run).rejects.toMatchObject({ code: 'PAYMENT_REQUIRED' });
    await expect(run).rejects.toThrow(/used its \$30\.00 of Starter credits/);
  });

  it('a budget is set by admins and refused when malformed', async () => {
    const team = await createTeam(t.db, services.services);
    await team.browsers.admin.api.billing.setBudget({
      workspaceId: team.workspace.id,
      amountCents: 1000,
      hardCap: true,
    });
    const report = await team.browsers.admin.api.billing.usage({ workspaceId: team.workspace.id });
    expect(report.budget).toEqual({ amountMicros: 10_000_000, hardCap: true });
    await expect(
      team.browsers.admin.api.billing.setBudget({
        workspaceId: team.workspace.id,
        amountCents: -5,
        hardCap: true,
      }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(
      team.browsers.admin.api.billing.setBudget({
        workspaceId: team.workspace.id,
        amountCents: 1e12,
        hardCap: true,
      }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});
