import { randomUUID } from 'node:crypto';
import type { Team } from './harness.ts';
import { EDITORS, MEMBERS, type Row } from './permission-row.ts';

/** What the endpoint rows act on, made by the test file (random ids for a workspace that does not exist). */
export interface EndpointObjects {
  /** An endpoint of the team's workspace. */
  endpointOf(team: Team): Promise<string>;
  /** Two versions of that endpoint that passed their smoke tests. */
  endpointVersionsOf(team: Team): Promise<[string, string]>;
  /** A token of that endpoint. */
  endpointTokenOf(team: Team): Promise<string>;
  /** The team's notebook, with a cell defining `add(a, b)`. */
  functionNotebookOf(team: Team): Promise<string>;
  /** A function file of the team's workspace. */
  functionFileOf(team: Team): Promise<string>;
  /** A fresh secret and a fresh volume of the team's workspace (a deploy may choose them). */
  secretOf(team: Team): Promise<string>;
  volumeOf(team: Team): Promise<string>;
}

const SOURCE = 'def add(a, b):\n    return a + b\n';

/** Rows of the permission matrix for `endpoint.*`: members read, editors and above deploy. */
export function endpointRows(objects: EndpointObjects): Record<string, Row> {
  const { endpointOf, endpointVersionsOf, endpointTokenOf, functionNotebookOf, functionFileOf } = objects;
  // A deploy that chooses what its replicas run with (the dialog's choice, not the notebook's defaults).
  const sandbox = async (team: Team) => ({
    imageId: null,
    secretIds: [await objects.secretOf(team)],
    volumes: [{ volumeId: await objects.volumeOf(team), readOnly: true }],
  });
  const at = async (team: Team) => ({ workspaceId: team.workspace.id, endpointId: await endpointOf(team) });
  return {
    'endpoint.list': {
      scope: 'workspace',
      allowed: MEMBERS,
      call: (api, team) => api.endpoint.list({ workspaceId: team.workspace.id }),
    },
    'endpoint.get': {
      scope: 'workspace',
      allowed: MEMBERS,
      call: async (api, team) => api.endpoint.get(await at(team)),
    },
    'endpoint.capture': {
      scope: 'workspace',
      allowed: EDITORS,
      call: async (api, team) =>
        api.endpoint.capture({
          workspaceId: team.workspace.id,
          notebookId: await functionNotebookOf(team),
          functionName: 'add',
        }),
    },
    'endpoint.captureSource': {
      scope: 'workspace',
      allowed: EDITORS,
      call: (api, team) =>
        api.endpoint.captureSource({ workspaceId: team.workspace.id, source: SOURCE, functionName: 'add' }),
    },
    'endpoint.machines': {
      scope: 'workspace',
      allowed: EDITORS,
      call: async (api, team) =>
        api.endpoint.machines({
          workspaceId: team.workspace.id,
          cpu: 1,
          memoryMiB: 2048,
          volumeIds: [await objects.volumeOf(team)],
        }),
    },
    'endpoint.create': {
      scope: 'workspace',
      allowed: EDITORS,
      call: (api, team) =>
        api.endpoint.create({ workspaceId: team.workspace.id, label: `e-${randomUUID().slice(0, 8)}` }),
    },
    'endpoint.update': {
      scope: 'workspace',
      allowed: EDITORS,
      call: async (api, team) =>
        api.endpoint.update({ ...(await at(team)), settings: { timeoutSeconds: 60 } }),
    },
    'endpoint.delete': {
      fresh: true,
      scope: 'workspace',
      allowed: EDITORS,
      call: async (api, team) => api.endpoint.delete(await at(team)),
    },
    'endpoint.deployFromNotebook': {
      scope: 'workspace',
      allowed: EDITORS,
      call: async (api, team) =>
        api.endpoint.deployFromNotebook({
          ...(await at(team)),
          notebookId: await functionNotebookOf(team),
          functionName: 'add',
          sampleInput: { a: 1, b: 2 },
          sandbox: await sandbox(team),
        }),
    },
    'endpoint.deploySource': {
      scope: 'workspace',
      allowed: EDITORS,
      call: async (api, team) =>
        api.endpoint.deploySource({
          ...(await at(team)),
          fileId: await functionFileOf(team),
          source: SOURCE,
          functionName: 'add',
          sampleInput: { a: 1, b: 2 },
        }),
    },
    'endpoint.diff': {
      scope: 'workspace',
      allowed: MEMBERS,
      call: async (api, team) => {
        const [fromVersionId, toVersionId] = await endpointVersionsOf(team);
        return api.endpoint.diff({ ...(await at(team)), fromVersionId, toVersionId });
      },
    },
    'endpoint.rollback': {
      scope: 'workspace',
      allowed: EDITORS,
      call: async (api, team) =>
        api.endpoint.rollback({ ...(await at(team)), versionId: (await endpointVersionsOf(team))[0] }),
    },
    'endpoint.createToken': {
      scope: 'workspace',
      allowed: EDITORS,
      call: async (api, team) => api.endpoint.createToken({ ...(await at(team)), name: 'ci' }),
    },
    'endpoint.revokeToken': {
      scope: 'workspace',
      allowed: EDITORS,
      call: async (api, team) =>
        api.endpoint.revokeToken({ ...(await at(team)), tokenId: await endpointTokenOf(team) }),
    },
  };
}
