import { randomBytes } from 'node:crypto';
import type { TestDatabase } from '@kiln/db/testing';
import { createScheduleRunner, createSchedules } from '@kiln/schedules';
import { createKeyring, createSecretsVault, generateSecretsKey, parseSecretsKey } from '@kiln/secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTeam, type Team, withDatabase } from '../test/harness.ts';
import { codeNotebook, startKernels } from '../test/kernels.ts';
import { createScheduledNotebookRun } from './scheduled-run.ts';

// A schedule's tick runs the notebook on a real runsc kernel through the real execution service;
// only the clock is the test's, so a tick is due without waiting for it.

let t: TestDatabase;
let team: Team;
let kernels: Awaited<ReturnType<typeof startKernels>>;
const clock = { now: new Date() };

beforeAll(async () => {
  t = await withDatabase({ max: 6 });
  kernels = await startKernels(t.db);
}, 900_000);
afterAll(async () => {
  await kernels?.close();
  await t?.drop();
});

describe('a scheduled notebook run', () => {
  it('runs all cells with the notebook secrets masked, saves a version and records a failure', async () => {
    const vault = createSecretsVault({
      db: t.db,
      keyring: createKeyring(parseSecretsKey(generateSecretsKey())),
    });
    const schedules = createSchedules({ db: t.db, clock: () => clock.now });
    team = await createTeam(t.db, {
      documents: kernels.documents,
      execution: kernels.execution,
      secrets: vault,
      schedules,
    });
    const workspaceId = team.workspace.id;
    const api = team.browsers.editor.api;
    const value = `sched-${randomBytes(12).toString('hex')}`;
    const secret = await team.browsers.owner.api.secret.create({
      workspaceId,
      name: 'db',
      values: { DB_PASSWORD: value },
    });
    const good = await api.notebook.importIpynb({
      workspaceId,
      name: 'Nightly',
      content: codeNotebook(['import os\nprint("pw", os.environ["DB_PASSWORD"])', 'print(6 * 7)']),
    });
    const bad = await api.notebook.importIpynb({
      workspaceId,
      name: 'Broken',
      content: codeNotebook(['1 / 0']),
    });
    await api.secret.setForNotebook({ workspaceId, notebookId: good.id, secretIds: [secret.id] });
    const versionsBefore = await t.db.notebookVersion.count({ where: { notebookId: good.id } });
    const goodSchedule = await api.schedule.create({
      workspaceId,
      notebookId: good.id,
      timing: { kind: 'period', seconds: 60 },
    });
    const badSchedule = await api.schedule.create({
      workspaceId,
      notebookId: bad.id,
      timing: { kind: 'period', seconds: 60 },
      maxRetries: 0,
    });

    const runner = createScheduleRunner({
      db: t.db,
      clock: () => clock.now,
      execute: createScheduledNotebookRun({
        db: t.db,
        documents: kernels.documents,
        execution: kernels.execution,
        secrets: vault,
      }),
    });
    clock.now = new Date(clock.now.getTime() + 61_000);
    expect(await runner.tick()).toBe(2);
    await runner.idle();

    const [run] = await api.schedule.runs({ workspaceId, scheduleId: goodSchedule.id });
    expect(run).toMatchObject({ status: 'succeeded', attempt: 1 });
    expect(run?.log).toContain('pw ********');
    expect(run?.log).toContain('42');
    expect(run?.log).not.toContain(value);
    expect(run?.durationMs).toBeGreaterThan(0);
    expect(await t.db.notebookVersion.count({ where: { notebookId: good.id } })).toBe(versionsBefore + 1);
    expect(run?.versionId).toBeTruthy();
    // The run started the kernel, so it shut it down again.
    expect(kernels.execution.state(good.id)).toBeNull();

    const [failed] = await api.schedule.runs({ workspaceId, scheduleId: badSchedule.id });
    expect(failed).toMatchObject({ status: 'failed', error: 'ZeroDivisionError: division by zero' });
  }, 600_000);
});
