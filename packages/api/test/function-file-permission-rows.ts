import type { Team } from './harness.ts';
import { EDITORS, type Row } from './permission-row.ts';

/** Rows of the permission matrix for `functionFile.*`: editors and above create and run. */
export function functionFileRows(functionFileOf: (team: Team) => Promise<string>): Record<string, Row> {
  return {
    'functionFile.create': {
      scope: 'workspace',
      allowed: EDITORS,
      call: (api, team) =>
        api.functionFile.create({
          workspaceId: team.workspace.id,
          name: 'tools.py',
          source: 'def f():\n  return 1\n',
        }),
    },
    'functionFile.run': {
      scope: 'workspace',
      allowed: EDITORS,
      call: async (api, team) =>
        api.functionFile.run({
          workspaceId: team.workspace.id,
          notebookId: await functionFileOf(team),
          functionName: 'greet',
          args: { name: 'Kiln' },
        }),
    },
  };
}
