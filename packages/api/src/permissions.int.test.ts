import { randomUUID } from 'node:crypto';
import type { TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Caller,
  createTeam,
  EVERYONE,
  outcome,
  PASSWORD,
  type Team,
  type Who,
  withDatabase,
} from '../test/harness.ts';
import { createTestServices, type TestServices } from '../test/services.ts';
import { appRouter } from './root.ts';

const NOTEBOOK_FILE = JSON.stringify({
  cells: [{ cell_type: 'code', execution_count: null, id: 'c1', metadata: {}, outputs: [], source: '1+1' }],
  metadata: {},
  nbformat: 4,
  nbformat_minor: 5,
});

/**
 * Every procedure, who may call it, and a valid input. A procedure missing here fails the test.
 * `scope: 'workspace'` means outsiders get NOT_FOUND; members without the right get FORBIDDEN;
 * signed-out callers of non-public procedures get UNAUTHORIZED.
 */
interface Row {
  scope: 'public' | 'account' | 'workspace';
  allowed: Who[];
  call: (api: Caller, team: Team, who: Who) => Promise<unknown>;
  /** Each permitted caller needs its own team (the call consumes what it acts on). */
  fresh?: boolean;
}

const SIGNED_IN: Who[] = ['owner', 'admin', 'editor', 'viewer', 'outsider'];
const MEMBERS: Who[] = ['owner', 'admin', 'editor', 'viewer'];
const EDITORS: Who[] = ['owner', 'admin', 'editor'];
const ADMINS: Who[] = ['owner', 'admin'];
const OWNERS: Who[] = ['owner'];

function ownToken(team: Team, who: Who) {
  return who === 'owner' || who === 'admin' || who === 'editor' || who === 'viewer'
    ? team.tokens[who]
    : team.tokens.owner;
}

const TABLE: Record<string, Row> = {
  'auth.me': { scope: 'public', allowed: EVERYONE, call: (api) => api.auth.me() },
  'auth.config': { scope: 'public', allowed: EVERYONE, call: (api) => api.auth.config() },
  'auth.signUp': {
    scope: 'public',
    allowed: EVERYONE,
    call: (api) =>
      api.auth.signUp({ email: `new-${randomUUID()}@example.com`, password: PASSWORD, name: 'New' }),
  },
  'auth.signIn': {
    scope: 'public',
    allowed: EVERYONE,
    call: (api, team) => api.auth.signIn({ email: team.users.editor.email, password: PASSWORD }),
  },
  'auth.signOut': { scope: 'public', allowed: EVERYONE, call: (api) => api.auth.signOut() },
  'auth.signOutEverywhere': {
    scope: 'account',
    allowed: SIGNED_IN,
    call: (api) => api.auth.signOutEverywhere(),
  },
  'account.update': {
    scope: 'account',
    allowed: SIGNED_IN,
    call: (api) => api.account.update({ name: 'Renamed' }),
  },
  'account.changePassword': {
    scope: 'account',
    allowed: SIGNED_IN,
    call: (api) =>
      api.account.changePassword({ currentPassword: PASSWORD, newPassword: 'another password 42' }),
  },
  'workspace.list': { scope: 'account', allowed: SIGNED_IN, call: (api) => api.workspace.list() },
  'workspace.get': {
    scope: 'workspace',
    allowed: MEMBERS,
    call: (api, team) => api.workspace.get({ slug: team.workspace.slug }),
  },
  'workspace.create': {
    scope: 'account',
    allowed: SIGNED_IN,
    call: (api) => api.workspace.create({ name: 'Fresh team' }),
  },
  'workspace.rename': {
    scope: 'workspace',
    allowed: ADMINS,
    call: (api, team) => api.workspace.rename({ workspaceId: team.workspace.id, name: 'Renamed team' }),
  },
  'workspace.delete': {
    scope: 'workspace',
    allowed: OWNERS,
    call: (api, team) =>
      api.workspace.delete({ workspaceId: team.workspace.id, confirm: team.workspace.slug }),
  },
  'workspace.transferOwnership': {
    scope: 'workspace',
    allowed: OWNERS,
    call: (api, team) =>
      api.workspace.transferOwnership({ workspaceId: team.workspace.id, userId: team.users.target.id }),
  },
  'member.list': {
    scope: 'workspace',
    allowed: MEMBERS,
    call: (api, team) => api.member.list({ workspaceId: team.workspace.id }),
  },
  'member.updateRole': {
    scope: 'workspace',
    allowed: ADMINS,
    call: (api, team) =>
      api.member.updateRole({ workspaceId: team.workspace.id, userId: team.users.target.id, role: 'VIEWER' }),
  },
  'member.remove': {
    fresh: true,
    scope: 'workspace',
    allowed: ADMINS,
    call: (api, team) => api.member.remove({ workspaceId: team.workspace.id, userId: team.users.target.id }),
  },
  'member.leave': {
    scope: 'workspace',
    allowed: MEMBERS,
    call: (api, team) => api.member.leave({ workspaceId: team.workspace.id }),
  },
  'invitation.list': {
    scope: 'workspace',
    allowed: ADMINS,
    call: (api, team) => api.invitation.list({ workspaceId: team.workspace.id }),
  },
  'invitation.create': {
    scope: 'workspace',
    allowed: ADMINS,
    call: (api, team) =>
      api.invitation.create({
        workspaceId: team.workspace.id,
        email: `x-${randomUUID()}@example.com`,
        role: 'VIEWER',
      }),
  },
  'invitation.revoke': {
    fresh: true,
    scope: 'workspace',
    allowed: ADMINS,
    call: (api, team) =>
      api.invitation.revoke({ workspaceId: team.workspace.id, invitationId: team.invitation.id }),
  },
  'invitation.preview': {
    scope: 'public',
    allowed: EVERYONE,
    call: (api, team) => api.invitation.preview({ token: team.invitation.token }),
  },
  'invitation.accept': {
    fresh: true,
    scope: 'account',
    // Members go straight in (the link is not used up); the outsider is not the invited address.
    allowed: MEMBERS,
    call: (api, team) => api.invitation.accept({ token: team.invitation.token }),
  },
  'notebook.list': {
    scope: 'workspace',
    allowed: MEMBERS,
    call: (api, team) => api.notebook.list({ workspaceId: team.workspace.id }),
  },
  'notebook.create': {
    scope: 'workspace',
    allowed: EDITORS,
    call: (api, team) => api.notebook.create({ workspaceId: team.workspace.id, name: 'New notebook' }),
  },
  'notebook.rename': {
    scope: 'workspace',
    allowed: EDITORS,
    call: (api, team) =>
      api.notebook.rename({ workspaceId: team.workspace.id, notebookId: team.notebookId, name: 'Renamed' }),
  },
  'notebook.delete': {
    fresh: true,
    scope: 'workspace',
    allowed: EDITORS,
    call: (api, team) => api.notebook.delete({ workspaceId: team.workspace.id, notebookId: team.notebookId }),
  },
  'notebook.get': {
    scope: 'workspace',
    allowed: MEMBERS,
    call: (api, team) => api.notebook.get({ workspaceId: team.workspace.id, notebookId: team.notebookId }),
  },
  'notebook.setResources': {
    scope: 'workspace',
    allowed: EDITORS,
    call: (api, team) =>
      api.notebook.setResources({
        workspaceId: team.workspace.id,
        notebookId: team.notebookId,
        cpu: 2,
        memoryMiB: 4096,
        gpu: null,
      }),
  },
  'notebook.run': {
    scope: 'workspace',
    allowed: EDITORS,
    call: (api, team) =>
      api.notebook.run({ workspaceId: team.workspace.id, notebookId: team.notebookId, mode: 'all' }),
  },
  'notebook.interrupt': {
    scope: 'workspace',
    allowed: EDITORS,
    call: (api, team) =>
      api.notebook.interrupt({ workspaceId: team.workspace.id, notebookId: team.notebookId }),
  },
  'notebook.restart': {
    scope: 'workspace',
    allowed: EDITORS,
    call: (api, team) =>
      api.notebook.restart({ workspaceId: team.workspace.id, notebookId: team.notebookId }),
  },
  'notebook.machines': {
    scope: 'workspace',
    allowed: EDITORS,
    call: (api, team) =>
      api.notebook.machines({ workspaceId: team.workspace.id, notebookId: team.notebookId }),
  },
  'notebook.cancelKernelStart': {
    scope: 'workspace',
    allowed: EDITORS,
    call: (api, team) =>
      api.notebook.cancelKernelStart({ workspaceId: team.workspace.id, notebookId: team.notebookId }),
  },
  'notebook.shutdownKernel': {
    scope: 'workspace',
    allowed: EDITORS,
    call: (api, team) =>
      api.notebook.shutdownKernel({ workspaceId: team.workspace.id, notebookId: team.notebookId }),
  },
  'notebook.answerInput': {
    scope: 'workspace',
    allowed: EDITORS,
    call: (api, team) =>
      api.notebook.answerInput({ workspaceId: team.workspace.id, notebookId: team.notebookId, value: '42' }),
  },
  'notebook.complete': {
    scope: 'workspace',
    allowed: EDITORS,
    call: (api, team) =>
      api.notebook.complete({
        workspaceId: team.workspace.id,
        notebookId: team.notebookId,
        code: 'import os\nos.pa',
        cursorPos: 15,
      }),
  },
  'notebook.inspect': {
    scope: 'workspace',
    allowed: EDITORS,
    call: (api, team) =>
      api.notebook.inspect({
        workspaceId: team.workspace.id,
        notebookId: team.notebookId,
        code: 'len',
        cursorPos: 3,
        detailLevel: 1,
      }),
  },
  'notebook.importIpynb': {
    scope: 'workspace',
    allowed: EDITORS,
    call: (api, team) =>
      api.notebook.importIpynb({ workspaceId: team.workspace.id, name: 'Imported', content: NOTEBOOK_FILE }),
  },
  'notebook.exportIpynb': {
    scope: 'workspace',
    allowed: MEMBERS,
    call: (api, team) =>
      api.notebook.exportIpynb({ workspaceId: team.workspace.id, notebookId: team.notebookId }),
  },
  'notebook.snapshot': {
    scope: 'workspace',
    allowed: MEMBERS,
    call: (api, team) =>
      api.notebook.snapshot({ workspaceId: team.workspace.id, notebookId: team.notebookId, cells: 5 }),
  },
  'notebook.createSample': {
    scope: 'workspace',
    allowed: EDITORS,
    call: (api, team) => api.notebook.createSample({ workspaceId: team.workspace.id }),
  },
  'version.save': {
    scope: 'workspace',
    allowed: EDITORS,
    call: (api, team) =>
      api.version.save({ workspaceId: team.workspace.id, notebookId: team.notebookId, name: 'Checkpoint' }),
  },
  'version.list': {
    scope: 'workspace',
    allowed: MEMBERS,
    call: (api, team) => api.version.list({ workspaceId: team.workspace.id, notebookId: team.notebookId }),
  },
  'version.get': {
    scope: 'workspace',
    allowed: MEMBERS,
    call: (api, team) =>
      api.version.get({
        workspaceId: team.workspace.id,
        notebookId: team.notebookId,
        versionId: team.versionId,
      }),
  },
  'version.restore': {
    scope: 'workspace',
    allowed: EDITORS,
    call: (api, team) =>
      api.version.restore({
        workspaceId: team.workspace.id,
        notebookId: team.notebookId,
        versionId: team.versionId,
      }),
  },
  'apiToken.list': {
    scope: 'workspace',
    allowed: MEMBERS,
    call: (api, team) => api.apiToken.list({ workspaceId: team.workspace.id }),
  },
  'apiToken.create': {
    scope: 'workspace',
    allowed: MEMBERS,
    call: (api, team) =>
      api.apiToken.create({ workspaceId: team.workspace.id, name: 'ci', expiresInDays: 30 }),
  },
  'apiToken.revoke': {
    scope: 'workspace',
    allowed: MEMBERS,
    call: (api, team, who) =>
      api.apiToken.revoke({ workspaceId: team.workspace.id, tokenId: ownToken(team, who).id }),
  },
  'audit.list': {
    scope: 'workspace',
    allowed: ADMINS,
    call: (api, team) => api.audit.list({ workspaceId: team.workspace.id }),
  },
  'secret.list': {
    scope: 'workspace',
    allowed: MEMBERS,
    call: (api, team) => api.secret.list({ workspaceId: team.workspace.id }),
  },
  'secret.create': {
    scope: 'workspace',
    allowed: ADMINS,
    call: (api, team) =>
      api.secret.create({
        workspaceId: team.workspace.id,
        name: `s-${randomUUID().slice(0, 8)}`,
        values: { TOKEN: 'value-1234' },
      }),
  },
  'secret.update': {
    scope: 'workspace',
    allowed: ADMINS,
    call: async (api, team) =>
      api.secret.update({
        workspaceId: team.workspace.id,
        secretId: await secretOf(team),
        values: { OTHER: 'value-5678' },
      }),
  },
  'secret.delete': {
    scope: 'workspace',
    allowed: ADMINS,
    call: async (api, team) =>
      api.secret.delete({ workspaceId: team.workspace.id, secretId: await secretOf(team) }),
  },
  'secret.forNotebook': {
    scope: 'workspace',
    allowed: MEMBERS,
    call: (api, team) =>
      api.secret.forNotebook({ workspaceId: team.workspace.id, notebookId: team.notebookId }),
  },
  'secret.setForNotebook': {
    scope: 'workspace',
    allowed: EDITORS,
    call: async (api, team) =>
      api.secret.setForNotebook({
        workspaceId: team.workspace.id,
        notebookId: team.notebookId,
        secretIds: [await secretOf(team)],
      }),
  },
  'billing.usage': {
    scope: 'workspace',
    allowed: MEMBERS,
    call: (api, team) => api.billing.usage({ workspaceId: team.workspace.id }),
  },
  'billing.exportCsv': {
    scope: 'workspace',
    allowed: MEMBERS,
    call: (api, team) => api.billing.exportCsv({ workspaceId: team.workspace.id }),
  },
  'billing.setBudget': {
    scope: 'workspace',
    allowed: ADMINS,
    call: (api, team) =>
      api.billing.setBudget({ workspaceId: team.workspace.id, amountCents: 5000, hardCap: true }),
  },
  'billing.kernelCost': {
    scope: 'workspace',
    allowed: MEMBERS,
    call: (api, team) =>
      api.billing.kernelCost({ workspaceId: team.workspace.id, notebookId: team.notebookId }),
  },
  'billing.checkout': {
    scope: 'workspace',
    allowed: ADMINS,
    call: (api, team) => api.billing.checkout({ workspaceId: team.workspace.id }),
  },
  'billing.portal': {
    scope: 'workspace',
    allowed: ADMINS,
    call: (api, team) => api.billing.portal({ workspaceId: team.workspace.id }),
  },
  'billing.changePlan': {
    scope: 'workspace',
    allowed: ADMINS,
    call: (api, team) => api.billing.changePlan({ workspaceId: team.workspace.id, plan: 'STARTER' }),
  },
  'schedule.list': {
    scope: 'workspace',
    allowed: MEMBERS,
    call: (api, team) => api.schedule.list({ workspaceId: team.workspace.id, notebookId: team.notebookId }),
  },
  'schedule.create': {
    scope: 'workspace',
    allowed: EDITORS,
    call: (api, team) =>
      api.schedule.create({
        workspaceId: team.workspace.id,
        notebookId: team.notebookId,
        timing: { kind: 'cron', expression: '0 6 * * 1-5', timeZone: 'Europe/Berlin' },
      }),
  },
  'schedule.update': {
    scope: 'workspace',
    allowed: EDITORS,
    call: async (api, team) =>
      api.schedule.update({
        workspaceId: team.workspace.id,
        scheduleId: await scheduleOf(team),
        timing: { kind: 'period', seconds: 7200 },
      }),
  },
  'schedule.setPaused': {
    scope: 'workspace',
    allowed: EDITORS,
    call: async (api, team) =>
      api.schedule.setPaused({
        workspaceId: team.workspace.id,
        scheduleId: await scheduleOf(team),
        paused: true,
      }),
  },
  'schedule.delete': {
    fresh: true,
    scope: 'workspace',
    allowed: EDITORS,
    call: async (api, team) =>
      api.schedule.delete({ workspaceId: team.workspace.id, scheduleId: await scheduleOf(team) }),
  },
  'schedule.runs': {
    scope: 'workspace',
    allowed: MEMBERS,
    call: async (api, team) =>
      api.schedule.runs({ workspaceId: team.workspace.id, scheduleId: await scheduleOf(team) }),
  },
};

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
