import { randomUUID } from 'node:crypto';
import type { Team } from './harness.ts';
import { EDITORS, MEMBERS, type Row } from './permission-row.ts';

/** Rows of the permission matrix for `image.*`: members read, editors and above define and build. */
export function imageRows(imageOf: (team: Team) => Promise<string>): Record<string, Row> {
  return {
    'image.list': {
      scope: 'workspace',
      allowed: MEMBERS,
      call: (api, team) => api.image.list({ workspaceId: team.workspace.id }),
    },
    'image.create': {
      scope: 'workspace',
      allowed: EDITORS,
      call: (api, team) =>
        api.image.create({
          workspaceId: team.workspace.id,
          name: `img-${randomUUID().slice(0, 8)}`,
          debian: ['hello'],
        }),
    },
    'image.update': {
      scope: 'workspace',
      allowed: EDITORS,
      call: async (api, team) =>
        api.image.update({ workspaceId: team.workspace.id, imageId: await imageOf(team), debian: ['sl'] }),
    },
    'image.rebuild': {
      scope: 'workspace',
      allowed: EDITORS,
      call: async (api, team) =>
        api.image.rebuild({ workspaceId: team.workspace.id, imageId: await imageOf(team) }),
    },
    'image.delete': {
      scope: 'workspace',
      allowed: EDITORS,
      call: async (api, team) =>
        api.image.delete({ workspaceId: team.workspace.id, imageId: await imageOf(team) }),
    },
    'image.follow': {
      scope: 'workspace',
      allowed: MEMBERS,
      call: async (api, team) =>
        api.image.follow({ workspaceId: team.workspace.id, imageId: await imageOf(team) }),
    },
    'image.setForNotebook': {
      scope: 'workspace',
      allowed: EDITORS,
      call: async (api, team) =>
        api.image.setForNotebook({
          workspaceId: team.workspace.id,
          notebookId: team.notebookId,
          imageId: await imageOf(team),
        }),
    },
  };
}
