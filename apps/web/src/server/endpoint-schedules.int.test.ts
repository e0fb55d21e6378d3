import { createScheduledEndpointCall } from '@kiln/api';
import type { TestDatabase } from '@kiln/db/testing';
import type { EndpointRuntime } from '@kiln/endpoints';
import { byTarget, createScheduleRunner, createSchedules } from '@kiln/schedules';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  testActor as actor,
  type EndpointStack,
  startEndpointStack,
  until,
  testVersion as version,
} from './endpoint-test-stack.ts';

// Schedules of endpoints on the real stack (endpoint-test-stack.ts): the runner's clock is the test's, so
// a tick is due without waiting; each tick calls a runsc replica through the runtime, as the web app does.
let stack: EndpointStack;
let database: TestDatabase;
let runtime: EndpointRuntime;

beforeAll(async () => {
  stack = await startEndpointStack();
  ({ database, runtime } = stack);
}, 300_000);

afterAll(async () => {
  await stack?.close();
}, 300_000);

const workspace = () => stack.workspace();
const settings = { cpu: 0.25, memoryMiB: 512, scaleDownSeconds: 600 };

describe('schedules of endpoints', () => {
  it('calls the live version on each tick with fixed arguments, records result, error and cost, and follows rollbacks', async () => {
    const ws = await workspace();
    // Not public and no token: a schedule calls through the runtime, not over HTTP.
    const endpoint = await runtime.store.create(ws.id, actor, { label: 'nightly', settings });
    const source =
      'def report(n, label="x"):\n    if n < 0:\n        raise ValueError("negative n")\n    return {"sum": sum(range(n)), "label": label}\n';
    const first = await runtime.deploy(ws.id, endpoint.id, actor, version(source, 'report', { n: 2 }));
    expect(first.live).toBe(true);
    const clock = { now: new Date() };
    const later = (ms: number) => {
      clock.now = new Date(clock.now.getTime() + ms);
    };
    const schedules = createSchedules({ db: database.db, clock: () => clock.now });
    const runner = createScheduleRunner({
      db: database.db,
      clock: () => clock.now,
      execute: byTarget({
        notebook: async () => ({ ok: false, error: 'this test schedules no notebook' }),
        endpoint: createScheduledEndpointCall(runtime),
      }),
    });
    const fire = async () => {
      later(61_000);
      expect(await runner.tick()).toBe(1);
      await runner.idle();
      const [newest] = await schedules.runs(ws.id, schedule.id);
      return newest;
    };
    const hourly = { kind: 'period' as const, seconds: 60 };
    const schedule = await schedules.createForEndpoint(ws.id, actor, endpoint.id, {
      timing: hourly,
      args: { n: 5, label: 'nightly' },
      maxRetries: 0,
    });
    expect(schedule.target).toEqual({
      kind: 'endpoint',
      endpointId: endpoint.id,
      args: { n: 5, label: 'nightly' },
    });

    const ok = await fire();
    expect(ok).toMatchObject({ status: 'succeeded', attempt: 1, error: null });
    expect(JSON.parse(ok?.result ?? 'null')).toEqual({ sum: 10, label: 'nightly' });
    expect(ok?.durationMs).toBeGreaterThan(0);
    expect(ok?.costMicros).toBeGreaterThan(0);
    // The call is in the endpoint's request log, priced like an HTTP call and marked as scheduled.
    const logged = await until(
      async () =>
        (await runtime.log.recent(ws.id, endpoint.id)).find((request) => request.id === ok?.requestId),
      'the scheduled call in the request log',
    );
    expect(logged).toMatchObject({ method: 'SCHEDULE', status: 200, scheduleId: schedule.id });
    expect(logged.versionId).toBe(first.id);
    expect(logged.costNanos).toBe(Math.round((ok?.costMicros ?? 0) * 1000));

    // A raising function: the run fails with the Python traceback, and the next tick runs again.
    await schedules.update(ws.id, actor, schedule.id, { timing: hourly, args: { n: -1 }, maxRetries: 0 });
    const failed = await fire();
    expect(failed?.status).toBe('failed');
    expect(failed?.error).toContain('ValueError: negative n');
    expect(failed?.error).toContain('raise ValueError("negative n")');
    // Arguments the function does not take fail at once: another attempt could not fix them.
    await schedules.update(ws.id, actor, schedule.id, { timing: hourly, args: { m: 1 }, maxRetries: 3 });
    const refused = await fire();
    expect(refused).toMatchObject({ status: 'failed', attempt: 1, nextAttemptAt: null });
    expect(refused?.error).toContain("400: TypeError: missing a required argument: 'n'");

    // A new version goes live: the next tick calls it; after a rollback, the old one again.
    await schedules.update(ws.id, actor, schedule.id, { timing: hourly, args: { n: 3 }, maxRetries: 0 });
    await runtime.deploy(
      ws.id,
      endpoint.id,
      actor,
      version('def report(n, label="x"):\n    return {"version": 2, "n": n}\n', 'report', { n: 1 }),
    );
    expect(JSON.parse((await fire())?.result ?? 'null')).toEqual({ version: 2, n: 3 });
    await runtime.rollback(ws.id, endpoint.id, first.id, actor);
    expect(JSON.parse((await fire())?.result ?? 'null')).toEqual({ sum: 3, label: 'x' });

    // Paused: ticks neither run nor count as missed. Deleted: gone with its runs, the endpoint stays.
    await schedules.setPaused(ws.id, actor, schedule.id, true);
    later(300_000);
    expect(await runner.tick()).toBe(0);
    expect(await schedules.runs(ws.id, schedule.id)).toHaveLength(5);
    await schedules.remove(ws.id, actor, schedule.id);
    expect(await schedules.list(ws.id, { endpointId: endpoint.id })).toEqual([]);
    expect(await database.db.scheduleRun.count({ where: { scheduleId: schedule.id } })).toBe(0);
    expect((await runtime.store.get(ws.id, endpoint.id)).label).toBe('nightly');
  });

  it('refuses bad cron expressions, arguments that are not a JSON object and endpoints of other workspaces, saving nothing', async () => {
    const ws = await workspace();
    const other = await workspace();
    const endpoint = await runtime.store.create(ws.id, actor, { label: 'sched-bad', settings });
    const elsewhere = await runtime.store.create(other.id, actor, { label: 'sched-bad', settings });
    const schedules = createSchedules({ db: database.db });
    const cron = (expression: string) => ({ kind: 'cron' as const, expression, timeZone: 'UTC' });
    const create = (endpointId: string, input: Parameters<typeof schedules.createForEndpoint>[3]) =>
      schedules.createForEndpoint(ws.id, actor, endpointId, input);
    await expect(create(endpoint.id, { timing: cron('61 * * * *'), args: {} })).rejects.toThrow(
      'Not a valid cron expression',
    );
    await expect(create(endpoint.id, { timing: cron('* * * *'), args: {} })).rejects.toThrow(
      'A cron expression has five fields',
    );
    for (const args of [[1, 2], 'x=1', null, 3]) {
      await expect(create(endpoint.id, { timing: cron('0 6 * * *'), args })).rejects.toThrow(
        'Arguments are a JSON object of keyword arguments',
      );
    }
    await expect(
      create(endpoint.id, { timing: cron('0 6 * * *'), args: { blob: 'x'.repeat(70_000) } }),
    ).rejects.toThrow('Arguments are at most 64 KiB of JSON');
    await expect(create(elsewhere.id, { timing: cron('0 6 * * *'), args: {} })).rejects.toThrow(
      'Endpoint not found',
    );
    expect(
      await database.db.notebookSchedule.count({ where: { workspaceId: { in: [ws.id, other.id] } } }),
    ).toBe(0);
    // A saved schedule keeps its arguments when an update brings bad ones.
    const saved = await create(endpoint.id, { timing: cron('0 6 * * *'), args: { n: 1 } });
    await expect(
      schedules.update(ws.id, actor, saved.id, { timing: cron('0 7 * * *'), args: [1] }),
    ).rejects.toThrow('Arguments are a JSON object');
    await expect(schedules.update(other.id, actor, saved.id, { timing: cron('0 7 * * *') })).rejects.toThrow(
      'Schedule not found',
    );
    expect((await schedules.list(ws.id, { endpointId: endpoint.id }))[0]?.target).toEqual({
      kind: 'endpoint',
      endpointId: endpoint.id,
      args: { n: 1 },
    });
  });
});
