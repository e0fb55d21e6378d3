import { randomUUID } from 'node:crypto';
import { requestSignUp, TEST_PASSWORD_HASH_OPTIONS } from '@kiln/accounts';
import type { TestDatabase } from '@kiln/db/testing';
import { insertCell } from '@kiln/notebook';
import { createVolumes } from '@kiln/volumes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTeam,
  EVERYONE,
  outcome,
  PASSWORD,
  type Team,
  type Who,
  withDatabase,
} from '../test/harness.ts';
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

/** A fresh confirmation link's token: requestSignUp mails it, this mailer keeps it. */
async function signUpLink(): Promise<string> {
  const sent: string[] = [];
  const mailer = { send: async (message: { text: string }) => void sent.push(message.text), close() {} };
  const email = `confirm-${randomUUID().slice(0, 8)}@example.com`;
  await requestSignUp(
    t.db,
    { email, password: PASSWORD, name: 'Confirm' },
    { mailer, appUrl: 'https://kiln.test', passwordHash: TEST_PASSWORD_HASH_OPTIONS },
  );
  const token = /\/sign-up\/confirm\/(\S+)/.exec(sent.join('\n'))?.[1];
  if (!token) throw new Error('no confirmation link was mailed');
  return token;
}
/** A fresh volume of the team's workspace (a random id for a workspace that does not exist). */
async function volumeOf(team: Team): Promise<string> {
  if ((await t.db.workspace.count({ where: { id: team.workspace.id } })) === 0) return randomUUID();
  const volumes = createVolumes({ db: t.db });
  return (await volumes.create(team.workspace.id, { userId: null }, `v-${randomUUID().slice(0, 8)}`)).id;
}

/** A fresh image definition of the team's workspace (a random id for a workspace that does not exist). */
async function imageOf(team: Team): Promise<string> {
  if ((await t.db.workspace.count({ where: { id: team.workspace.id } })) === 0) return randomUUID();
  const image = await t.db.workspaceImage.create({
    data: {
      workspaceId: team.workspace.id,
      name: `i-${randomUUID().slice(0, 8)}`,
      debian: ['hello'],
      python: [],
    },
  });
  return image.id;
}

const teamFunctionFiles = new Map<string, Promise<string>>();

/** One function file per team workspace, made once by its owner (a random id for a workspace that does not exist). */
function functionFileOf(team: Team): Promise<string> {
  const key = team.workspace.id;
  let pending = teamFunctionFiles.get(key);
  if (!pending) {
    pending = (async () => {
      if ((await t.db.workspace.count({ where: { id: key } })) === 0) return randomUUID();
      return (await team.browsers.owner.api.functionFile.create({ workspaceId: key, name: 'greet.py' })).id;
    })();
    teamFunctionFiles.set(key, pending);
  }
  return pending;
}

const exists = async (team: Team) => (await t.db.workspace.count({ where: { id: team.workspace.id } })) > 0;
const oncePerTeam = <T>(make: (team: Team) => Promise<T>, ghost: () => T) => {
  const made = new Map<string, Promise<T>>();
  return (team: Team): Promise<T> => {
    let pending = made.get(team.workspace.id);
    if (!pending) {
      pending = exists(team).then((real) => (real ? make(team) : ghost()));
      made.set(team.workspace.id, pending);
    }
    return pending;
  };
};
const endpointsOf = () => {
  const endpoints = services.services.endpoints;
  if (!endpoints) throw new Error('the test services have no endpoints');
  return endpoints.runtime;
};
const endpointOf = oncePerTeam(
  async (team) =>
    (
      await endpointsOf().store.create(
        team.workspace.id,
        { userId: null },
        { label: `ep-${randomUUID().slice(0, 8)}` },
      )
    ).id,
  () => randomUUID(),
);
const endpointVersionsOf = oncePerTeam<[string, string]>(
  async (team): Promise<[string, string]> => {
    const runtime = endpointsOf();
    const endpointId = await endpointOf(team);
    const ids: string[] = [];
    for (const source of ['def f():\n    return 1\n', 'def f():\n    return 2\n']) {
      const version = await runtime.versions.add(team.workspace.id, endpointId, null, {
        functionName: 'f',
        source,
        origin: { kind: 'function_file', fileId: randomUUID() },
        dependencies: { imports: [], definitions: [], missing: [] },
        parameters: [],
        sampleInput: {},
      });
      await runtime.versions.settle(version.id, { passed: true, result: 1 });
      ids.push(version.id);
    }
    return ids as [string, string];
  },
  () => [randomUUID(), randomUUID()] as [string, string],
);
const endpointTokenOf = oncePerTeam(
  async (team) =>
    (await endpointsOf().store.createToken(team.workspace.id, await endpointOf(team), { userId: null }, 't'))
      .view.id,
  () => randomUUID(),
);
const functionNotebookOf = oncePerTeam(
  async (team) => {
    const connection = await services.collab.openDirectConnection(team.notebookId);
    await connection.transact((doc) => {
      insertCell(doc, { id: 'fn', cell_type: 'code', source: 'def add(a, b):\n    return a + b\n' });
    });
    await connection.disconnect();
    return team.notebookId;
  },
  () => randomUUID(),
);

const TABLE = permissionTable({
  scheduleOf,
  secretOf,
  volumeOf,
  imageOf,
  functionFileOf,
  signUpLink,
  endpointOf,
  endpointVersionsOf,
  endpointTokenOf,
  functionNotebookOf,
});

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
    const otherVolumeId = await volumeOf({
      ...team,
      workspace: { ...team.workspace, id: team.otherWorkspace.id },
    });
    const otherEndpointId = await endpointOf({
      ...team,
      workspace: { ...team.workspace, id: team.otherWorkspace.id },
    });
    const otherImageId = await imageOf({
      ...team,
      workspace: { ...team.workspace, id: team.otherWorkspace.id },
    });
    const attempts: Record<string, () => Promise<unknown>> = {
      imageUpdate: () => api.image.update({ workspaceId, imageId: otherImageId, debian: ['sl'] }),
      imageRebuild: () => api.image.rebuild({ workspaceId, imageId: otherImageId }),
      imageDelete: () => api.image.delete({ workspaceId, imageId: otherImageId }),
      imageFollow: () => api.image.follow({ workspaceId, imageId: otherImageId }),
      imageUse: () =>
        api.image.setForNotebook({ workspaceId, notebookId: team.notebookId, imageId: otherImageId }),
      imageOfNotebook: () =>
        api.image.setForNotebook({ workspaceId, notebookId: team.otherNotebookId, imageId: null }),
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
      endpointDeployOtherFile: async () =>
        api.endpoint.deploySource({
          workspaceId,
          endpointId: await endpointOf(team),
          fileId: team.otherNotebookId,
          source: 'def add(a, b):\n    return a + b\n',
          functionName: 'add',
          sampleInput: { a: 1, b: 2 },
        }),
      endpointDeployOtherSecret: async () =>
        api.endpoint.deploySource({
          workspaceId,
          endpointId: await endpointOf(team),
          fileId: await functionFileOf(team),
          source: 'def add(a, b):\n    return a + b\n',
          functionName: 'add',
          sampleInput: { a: 1, b: 2 },
          sandbox: { imageId: null, secretIds: [otherSecretId], volumes: [] },
        }),
      endpointDeployOtherVolume: async () =>
        api.endpoint.deployFromNotebook({
          workspaceId,
          endpointId: await endpointOf(team),
          notebookId: await functionNotebookOf(team),
          functionName: 'add',
          sampleInput: { a: 1, b: 2 },
          sandbox: { imageId: null, secretIds: [], volumes: [{ volumeId: otherVolumeId, readOnly: false }] },
        }),
      endpointDeployOtherImage: async () =>
        api.endpoint.deployFromNotebook({
          workspaceId,
          endpointId: await endpointOf(team),
          notebookId: await functionNotebookOf(team),
          functionName: 'add',
          sampleInput: { a: 1, b: 2 },
          sandbox: { imageId: otherImageId, secretIds: [], volumes: [] },
        }),
      functionFileRun: () =>
        api.functionFile.run({
          workspaceId,
          notebookId: team.otherNotebookId,
          functionName: 'greet',
          args: {},
        }),
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
      scheduleEndpoint: () =>
        api.schedule.createForEndpoint({
          workspaceId,
          endpointId: otherEndpointId,
          timing: { kind: 'period', seconds: 600 },
          args: {},
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
      volumeDelete: () => api.volume.delete({ workspaceId, volumeId: otherVolumeId }),
      volumeUse: () =>
        api.volume.setForNotebook({
          workspaceId,
          notebookId: team.notebookId,
          volumes: [{ volumeId: otherVolumeId, readOnly: false }],
        }),
      volumesOfNotebook: () => api.volume.forNotebook({ workspaceId, notebookId: team.otherNotebookId }),
    };
    const results: Record<string, string> = {};
    for (const [name, call] of Object.entries(attempts)) results[name] = await outcome(call());
    expect(Object.values(results)).toEqual(Object.values(attempts).map(() => 'NOT_FOUND'));
    const other = await t.db.notebook.findUniqueOrThrow({ where: { id: team.otherNotebookId } });
    expect(other.name).toBe('Secret');
    expect(await t.db.membership.count({ where: { userId: outsiderId } })).toBe(1);
    expect(services.execution.calls.filter((call) => call.notebookId === team.otherNotebookId)).toEqual([]);
    // A deploy naming another workspace's secret, volume or image made no version.
    expect(await t.db.endpointVersion.count({ where: { endpoint: { workspaceId } } })).toBe(0);
    expect(await t.db.notebookVersion.count({ where: { notebookId: team.otherNotebookId } })).toBe(1);
    expect((await t.db.secret.findUniqueOrThrow({ where: { id: otherSecretId } })).keys).toEqual(['TOKEN']);
    expect(await t.db.volume.count({ where: { id: otherVolumeId } })).toBe(1);
    expect(await t.db.notebookVolume.count({ where: { notebookId: team.notebookId } })).toBe(0);
    expect((await t.db.workspaceImage.findUniqueOrThrow({ where: { id: otherImageId } })).debian).toEqual([
      'hello',
    ]);
    expect((await t.db.notebook.findUniqueOrThrow({ where: { id: team.notebookId } })).imageId).toBeNull();
    expect(await t.db.notebookSchedule.count({ where: { endpointId: otherEndpointId } })).toBe(0);
    expect(await t.db.notebookSchedule.findUniqueOrThrow({ where: { id: otherScheduleId } })).toMatchObject({
      paused: false,
      periodSeconds: 3600,
    });
  });
});
