import { randomUUID } from 'node:crypto';
import { type EndpointObjects, endpointRows } from './endpoint-permission-rows.ts';
import { functionFileRows } from './function-file-permission-rows.ts';
import { EVERYONE, PASSWORD, type Team, type Who } from './harness.ts';
import { imageRows } from './image-permission-rows.ts';
import { ADMINS, EDITORS, MEMBERS, OWNERS, type Row, SIGNED_IN } from './permission-row.ts';
import { scheduleRows } from './schedule-permission-rows.ts';
import { volumeRows } from './volume-permission-rows.ts';

export type { Row } from './permission-row.ts';

const NOTEBOOK_FILE = JSON.stringify({
  cells: [{ cell_type: 'code', execution_count: null, id: 'c1', metadata: {}, outputs: [], source: '1+1' }],
  metadata: {},
  nbformat: 4,
  nbformat_minor: 5,
});

function ownToken(team: Team, who: Who) {
  return who === 'owner' || who === 'admin' || who === 'editor' || who === 'viewer'
    ? team.tokens[who]
    : team.tokens.owner;
}

/** Made by the test file, which owns the database the rows act on. */
export interface TableObjects extends EndpointObjects {
  /** A schedule of the team's workspace. */
  scheduleOf(team: Team): Promise<string>;
  /** A fresh secret of the team's workspace. */
  secretOf(team: Team): Promise<string>;
  /** A fresh volume of the team's workspace. */
  volumeOf(team: Team): Promise<string>;
  /** A fresh image definition of the team's workspace. */
  imageOf(team: Team): Promise<string>;
  /** A function file (defining `greet`) of the team's workspace. */
  functionFileOf(team: Team): Promise<string>;
  /** The token of a fresh sign-up confirmation link (as KILN_SIGN_UP=verify mails it). */
  signUpLink(): Promise<string>;
}

/**
 * The permission matrix: every procedure's row (see `Row`), the routers with many rows from their own
 * files beside this one; `objects` makes what some calls act on.
 */
export function permissionTable({
  scheduleOf,
  secretOf,
  volumeOf,
  imageOf,
  functionFileOf,
  signUpLink,
  ...endpoints
}: TableObjects): Record<string, Row> {
  return {
    ...endpointRows({ ...endpoints, functionFileOf, secretOf, volumeOf }),
    ...imageRows(imageOf),
    'auth.me': { scope: 'public', allowed: EVERYONE, call: (api) => api.auth.me() },
    'auth.config': { scope: 'public', allowed: EVERYONE, call: (api) => api.auth.config() },
    'auth.signUp': {
      scope: 'public',
      allowed: EVERYONE,
      call: (api) =>
        api.auth.signUp({ email: `new-${randomUUID()}@example.com`, password: PASSWORD, name: 'New' }),
    },
    'auth.confirmSignUp': {
      scope: 'public',
      allowed: EVERYONE,
      call: async (api) => api.auth.confirmSignUp({ token: await signUpLink() }),
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
        api.member.updateRole({
          workspaceId: team.workspace.id,
          userId: team.users.target.id,
          role: 'VIEWER',
        }),
    },
    'member.remove': {
      fresh: true,
      scope: 'workspace',
      allowed: ADMINS,
      call: (api, team) =>
        api.member.remove({ workspaceId: team.workspace.id, userId: team.users.target.id }),
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
      call: (api, team) =>
        api.notebook.delete({ workspaceId: team.workspace.id, notebookId: team.notebookId }),
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
        api.notebook.answerInput({
          workspaceId: team.workspace.id,
          notebookId: team.notebookId,
          value: '42',
        }),
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
        api.notebook.importIpynb({
          workspaceId: team.workspace.id,
          name: 'Imported',
          content: NOTEBOOK_FILE,
        }),
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
    ...functionFileRows(functionFileOf),
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
    ...volumeRows(volumeOf),
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
    ...scheduleRows(scheduleOf, endpoints.endpointOf),
  };
}
