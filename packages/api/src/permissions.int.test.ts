import { randomUUID } from 'node:crypto';
import type { TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTeam, EVERYONE, outcome, type Team, type Who, withDatabase } from '../test/harness.ts';
import { permissionTable, type Row } from '../test/permission-table.ts';
import { createTestServices, type TestServices } from '../test/services.ts';
import { appRouter } from './root.ts';

const teamSchedules = new Map<string, Promise<string>>();

/** One schedule per team workspace, made once (a random id for a workspace that does not exist). */
function scheduleOf(team: Team): Promise<string> {
  const key = team.workspace.id;
  let pending = teamSchedules.get(key);
  if (!pending) {
    pending = (async () => {
      if ((await t.db.workspace.count({ where: { id: key } })) === 0) return randomUUID();
      const notebook = await t.db.notebook.findFirstOrThrow({ where: { workspaceId: key } });
      const schedules = services.services.schedules;
      if (!schedules) throw new Error('the test services have no schedules');
      const created = await schedules.create(key, { userId: null }, notebook.id, {
        timing: { kind: 'period', seconds: 3600 },
      });
      return created.id;
    })();
    teamSchedules.set(key, pending);
  }
  return pending;
}

/** A fresh secret of the team's workspace (a random id for a workspace that does not exist). */
async function secretOf(team: Team): Promise<string> {
  if ((await t.db.workspace.count({ where: { id: team.workspace.id } })) === 0) return randomUUID();
  const vault = services.services.secrets;
  if (!vault) throw new Error('the test services have no secrets vault');
  const name = `s-${randomUUID().slice(0, 8)}`;
  return (await vault.create(team.workspace.id, { userId: null }, { name, values: { TOKEN: 'value-1234' } }))
    .id;
}

const TABLE = permissionTable({ scheduleOf, secretOf });

function expected(row: Row, who: Who): string {
  if (row.allowed.includes(who)) return 'OK';
  if (who === 'signedOut') return 'UNAUTHORIZED';
  if (who === 'outsider' && row.scope === 'workspace') return 'NOT_FOUND';
  return 'FORBIDDEN';
}

let t: TestDatabase;
let services: TestServices;
beforeAll(async () => {
  t = await withDatabase({ max: 8 });
  services = createTestServices(undefined, { db: t.db });
});
afterAll(async () => {
  await services?.close();
  await t?.drop();
});

const procedures = Object.keys(appRouter._def.procedures).sort();

describe('permission matrix', () => {
  it('has a row for every procedure', () => {
    expect(procedures.filter((path) => !(path in TABLE))).toEqual([]);
    expect(Object.keys(TABLE).filter((path) => !procedures.includes(path))).toEqual([]);
  });

  it.each(procedures)('%s: each role gets exactly its rights', async (path) => {
    const row = TABLE[path];
    if (!row) throw new Error(`No permission row for ${path}`);
    // Refused callers go first, against an untouched team. Permitted callers share that team too,
    // except for rows marked `fresh`, whose mutation would change what the next caller meets.
    const shared = await createTeam(t.db, services.services);
    const order = [...EVERYONE].sort(
      (a, b) => Number(row.allowed.includes(a)) - Number(row.allowed.includes(b)),
    );
    const results: [Who, string][] = [];
    for (const who of order) {
      const team =
        row.fresh && row.allowed.includes(who) ? await createTeam(t.db, services.services) : shared;
      results.push([who, await outcome(row.call(team.browsers[who].api, team, who))]);
    }
    expect(Object.fromEntries(results)).toEqual(
      Object.fromEntries(EVERYONE.map((who) => [who, expected(row, who)])),
    );
  });
});

describe('members of other workspaces learn nothing', () => {
  const workspaceScoped = Object.entries(TABLE).filter(([, row]) => row.scope === 'workspace');
  // Outsiders change nothing, so one team serves every row.
  let team: Team | undefined;

  it.each(workspaceScoped.map(([path]) => path))(
    '%s: same answer as for a workspace that does not exist',
    async (path) => {
      const row = TABLE[path] as Row;
      team ??= await createTeam(t.db, services.services);
      const outsider = team.browsers.outsider.api;
      const real = await row.call(outsider, team, 'outsider').then(
        () => ({ ok: true }),
        (error: { code: string; message: string }) => ({ code: error.code, message: error.message }),
      );
      const ghost: Team = {
        ...team,
        workspace: { ...team.workspace, id: randomUUID(), slug: `ghost-${randomUUID().slice(0, 8)}` },
      };
      const missing = await row.call(outsider, ghost, 'outsider').then(
        () => ({ ok: true }),
        (error: { code: string; message: string }) => ({ code: error.code, message: error.message }),
      );
      expect(real).toEqual({ code: 'NOT_FOUND', message: 'Workspace not found' });
      expect(missing).toEqual(real);
    },
  );

  it('objects of another workspace answer NOT_FOUND, even to its admins', async () => {
    const team = await createTeam(t.db, services.services);
    const api = team.browsers.owner.api;
    const workspaceId = team.workspace.id;
    const outsiderId = team.users.outsider.id;
    const otherSecretId = await secretOf({
      ...team,
      workspace: { ...team.workspace, id: team.otherWorkspace.id },
    });
    const otherScheduleId = await scheduleOf({
      ...team,
      workspace: { ...team.workspace, id: team.otherWorkspace.id },
    });
    const attempts: Record<string, () => Promise<unknown>> = {
      notebookRename: () =>
        api.notebook.rename({ workspaceId, notebookId: team.otherNotebookId, name: 'pwned' }),
      notebookDelete: () => api.notebook.delete({ workspaceId, notebookId: team.otherNotebookId }),
      notebookGet: () => api.notebook.get({ workspaceId, notebookId: team.otherNotebookId }),
      notebookRun: () => api.notebook.run({ workspaceId, notebookId: team.otherNotebookId, mode: 'all' }),
      notebookInterrupt: () => api.notebook.interrupt({ workspaceId, notebookId: team.otherNotebookId }),
      notebookComplete: () =>
        api.notebook.complete({ workspaceId, notebookId: team.otherNotebookId, code: 'os.', cursorPos: 3 }),
      notebookInspect: () =>
        api.notebook.inspect({ workspaceId, notebookId: team.otherNotebookId, code: 'len', cursorPos: 3 }),
      notebookResources: () =>
        api.notebook.setResources({
          workspaceId,
          notebookId: team.otherNotebookId,
          cpu: 1,
          memoryMiB: 1024,
          gpu: null,
        }),
      notebookMachines: () => api.notebook.machines({ workspaceId, notebookId: team.otherNotebookId }),
      notebookCancelStart: () =>
        api.notebook.cancelKernelStart({ workspaceId, notebookId: team.otherNotebookId }),
      notebookExport: () => api.notebook.exportIpynb({ workspaceId, notebookId: team.otherNotebookId }),
      notebookSnapshot: () =>
        api.notebook.snapshot({ workspaceId, notebookId: team.otherNotebookId, cells: 5 }),
      versionSave: () => api.version.save({ workspaceId, notebookId: team.otherNotebookId, name: 'x' }),
      versionList: () => api.version.list({ workspaceId, notebookId: team.otherNotebookId }),
      versionOfOtherNotebook: () =>
        api.version.get({ workspaceId, notebookId: team.notebookId, versionId: team.otherVersionId }),
      versionRestore: () =>
        api.version.restore({ workspaceId, notebookId: team.notebookId, versionId: team.otherVersionId }),
      memberRole: () => api.member.updateRole({ workspaceId, userId: outsiderId, role: 'VIEWER' }),
      memberRemove: () => api.member.remove({ workspaceId, userId: outsiderId }),
      transfer: () => api.workspace.transferOwnership({ workspaceId, userId: outsiderId }),
      invitationRevoke: () => api.invitation.revoke({ workspaceId, invitationId: team.otherInvitationId }),
      tokenRevoke: () =>
        api.apiToken.revoke({ workspaceId: team.otherWorkspace.id, tokenId: team.tokens.owner.id }),
      secretUpdate: () =>
        api.secret.update({ workspaceId, secretId: otherSecretId, values: { X: 'pwned-value' } }),
      secretDelete: () => api.secret.delete({ workspaceId, secretId: otherSecretId }),
      secretUse: () =>
        api.secret.setForNotebook({ workspaceId, notebookId: team.notebookId, secretIds: [otherSecretId] }),
      secretsOfNotebook: () => api.secret.forNotebook({ workspaceId, notebookId: team.otherNotebookId }),
      scheduleCreate: () =>
        api.schedule.create({
          workspaceId,
          notebookId: team.otherNotebookId,
          timing: { kind: 'period', seconds: 600 },
        }),
      scheduleUpdate: () =>
        api.schedule.update({
          workspaceId,
          scheduleId: otherScheduleId,
          timing: { kind: 'period', seconds: 60 },
        }),
      schedulePause: () => api.schedule.setPaused({ workspaceId, scheduleId: otherScheduleId, paused: true }),
      scheduleDelete: () => api.schedule.delete({ workspaceId, scheduleId: otherScheduleId }),
      scheduleRuns: () => api.schedule.runs({ workspaceId, scheduleId: otherScheduleId }),
    };
    const results: Record<string, string> = {};
    for (const [name, call] of Object.entries(attempts)) results[name] = await outcome(call());
    expect(Object.values(results)).toEqual(Object.values(attempts).map(() => 'NOT_FOUND'));
    const other = await t.db.notebook.findUniqueOrThrow({ where: { id: team.otherNotebookId } });
    expect(other.name).toBe('Secret');
    expect(await t.db.membership.count({ where: { userId: outsiderId } })).toBe(1);
    expect(services.execution.calls.filter((call) => call.notebookId === team.otherNotebookId)).toEqual([]);
    expect(await t.db.notebookVersion.count({ where: { notebookId: team.otherNotebookId } })).toBe(1);
    expect((await t.db.secret.findUniqueOrThrow({ where: { id: otherSecretId } })).keys).toEqual(['TOKEN']);
    expect(await t.db.notebookSchedule.findUniqueOrThrow({ where: { id: otherScheduleId } })).toMatchObject({
      paused: false,
      periodSeconds: 3600,
    });
  });
});
