import { randomUUID } from 'node:crypto';
import type { Team } from './harness.ts';
import { ADMINS, EDITORS, MEMBERS, type Row } from './permission-row.ts';

/** Rows of the permission matrix for `volume.*`: members read, editors create and attach, admins delete and move. */
export function volumeRows(volumeOf: (team: Team) => Promise<string>): Record<string, Row> {
  return {
    'volume.list': {
      scope: 'workspace',
      allowed: MEMBERS,
      call: (api, team) => api.volume.list({ workspaceId: team.workspace.id }),
    },
    'volume.create': {
      scope: 'workspace',
      allowed: EDITORS,
      call: (api, team) =>
        api.volume.create({ workspaceId: team.workspace.id, name: `v-${randomUUID().slice(0, 8)}` }),
    },
    'volume.delete': {
      scope: 'workspace',
      allowed: ADMINS,
      call: async (api, team) =>
        api.volume.delete({ workspaceId: team.workspace.id, volumeId: await volumeOf(team) }),
    },
    'volume.pendingErasures': {
      scope: 'workspace',
      allowed: MEMBERS,
      call: (api, team) => api.volume.pendingErasures({ workspaceId: team.workspace.id }),
    },
    'volume.placement': {
      scope: 'workspace',
      allowed: ADMINS,
      call: async (api, team) =>
        api.volume.placement({ workspaceId: team.workspace.id, disk: await volumeOf(team) }),
    },
    'volume.move': {
      scope: 'workspace',
      allowed: ADMINS,
      // These tests run no nodes: allowed callers get past the role check to the node lookup.
      call: async (api, team) =>
        api.volume
          .move({ workspaceId: team.workspace.id, disk: await volumeOf(team), toNodeId: 'no-such-node' })
          .catch((error: { code?: string; message?: string }) => {
            if (error.code === 'NOT_FOUND' && error.message === 'No node no-such-node') return null;
            throw error;
          }),
    },
    'volume.forNotebook': {
      scope: 'workspace',
      allowed: MEMBERS,
      call: (api, team) =>
        api.volume.forNotebook({ workspaceId: team.workspace.id, notebookId: team.notebookId }),
    },
    'volume.setForNotebook': {
      scope: 'workspace',
      allowed: EDITORS,
      call: async (api, team) =>
        api.volume.setForNotebook({
          workspaceId: team.workspace.id,
          notebookId: team.notebookId,
          volumes: [{ volumeId: await volumeOf(team), readOnly: true }],
        }),
    },
  };
}
