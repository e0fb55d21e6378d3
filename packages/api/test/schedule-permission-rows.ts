import type { Team } from './harness.ts';
import { EDITORS, MEMBERS, type Row } from './permission-row.ts';

/** Rows of the permission matrix for `schedule.*`: members read, editors and above change. */
export function scheduleRows(
  scheduleOf: (team: Team) => Promise<string>,
  endpointOf: (team: Team) => Promise<string>,
): Record<string, Row> {
  return {
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
    'schedule.createForEndpoint': {
      scope: 'workspace',
      allowed: EDITORS,
      call: async (api, team) =>
        api.schedule.createForEndpoint({
          workspaceId: team.workspace.id,
          endpointId: await endpointOf(team),
          timing: { kind: 'period', seconds: 3600 },
          args: { a: 1, b: 2 },
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
}
