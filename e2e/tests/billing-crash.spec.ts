import { execFileSync } from 'node:child_process';
import { type Browser, expect, type Page, test } from '@playwright/test';
import { callMutation, callQuery, signUp, uniqueEmail } from '../support/fixtures.ts';
import { openNotebook, output } from '../support/notebook.ts';
import { type OwnStack, ownStack } from '../support/processes.ts';

// The usage ledger across crashes of real processes over real Postgres: a kill -9 of the web server
// (which runs the meter) or of the kernel gateway in the middle of a run loses no second of usage
// beyond one heartbeat and counts none twice, once everything is back.

test.setTimeout(600_000);

let database: OwnStack['database'];
let gateway: OwnStack['gateway'];
let web: OwnStack['web'];
ownStack((stack) => ({ database, gateway, web } = stack));

/** One row per line, columns split on `|`. */
function sql(query: string): string[][] {
  const out = execFileSync('psql', [database.url, '-At', '-F', '|', '-c', query], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split('|'));
}

const ms = (column: string) => `(extract(epoch FROM ${column}) * 1000)::bigint`;

function data<T>(body: unknown): T {
  return (body as { result: { data: { json: T } } }).result.data.json;
}

const LONG_CELL =
  "import time\nfor i in range(45):\n    print('tick', i, flush=True)\n    time.sleep(1)\nprint('done')";

/** Signs up, imports a one-cell notebook, opens it and starts the cell; returns its kernel's container. */
async function runningNotebook(browser: Browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signUp(page, { name: 'Mia Meter', email: uniqueEmail('mia'), password: 'a long enough password' });
  const [workspace] = data<{ id: string; slug: string }[]>(
    (await callQuery(page, 'workspace.list', undefined)).body,
  );
  if (!workspace) throw new Error('no workspace');
  const content = JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [{ cell_type: 'code', source: LONG_CELL, metadata: {}, outputs: [], execution_count: null }],
  });
  const created = await callMutation(page, 'notebook.importIpynb', {
    workspaceId: workspace.id,
    name: 'Crashes',
    content,
  });
  expect(created.status).toBe(200);
  const notebookId = data<{ id: string }>(created.body).id;
  await openNotebook(page, `${web.url}/w/${workspace.slug}/n/${notebookId}`);
  const run = await callMutation(page, 'notebook.run', {
    workspaceId: workspace.id,
    notebookId,
    mode: 'all',
    cellIds: [],
  });
  expect(run.status).toBe(200);
  await expect(output(page, 1)).toContainText('tick 2', { timeout: 180_000 });
  const [[containerId] = []] = sql(
    `SELECT id FROM "Container" WHERE "ownerId" = '${notebookId}' AND state = 'running'`,
  );
  if (!containerId) throw new Error('no running container for the notebook');
  // The meter has opened the slice and carried at least one node heartbeat into it.
  await expect
    .poll(
      () =>
        sql(`SELECT count(*) FROM "UsageSlice" WHERE "containerId" = '${containerId}'
             AND "endAt" IS NULL AND "heartbeatAt" > "startAt"`)[0]?.[0],
      { timeout: 60_000 },
    )
    .toBe('1');
  return { page, workspaceId: workspace.id, notebookId, containerId };
}

/** Waits until the container has ended (stopped or lost) and the meter closed every slice of it. */
async function settled(containerId: string): Promise<void> {
  await expect
    .poll(
      () =>
        sql(`SELECT (SELECT CASE WHEN state IN ('stopped', 'lost') THEN 'ended' ELSE state::text END
                     FROM "Container" WHERE id = '${containerId}'),
               (SELECT count(*) FROM "UsageSlice" WHERE "containerId" = '${containerId}' AND "endAt" IS NULL)`)[0]?.join(
          ' ',
        ),
      { timeout: 120_000 },
    )
    .toBe('ended 0');
}

/** The ledger of one container, and checks that hold for every ledger: no overlap, rollup exactly once. */
function ledger(containerId: string, workspaceId: string) {
  const slices = sql(
    `SELECT ${ms('"startAt"')}, ${ms('"endAt"')}, "endReason" FROM "UsageSlice"
     WHERE "containerId" = '${containerId}' ORDER BY "startAt"`,
  ).map(([start, end, reason]) => ({ start: Number(start), end: Number(end), reason }));
  for (let i = 1; i < slices.length; i++) {
    expect(slices[i]?.start, 'slices of one container never overlap').toBeGreaterThanOrEqual(
      slices[i - 1]?.end ?? 0,
    );
  }
  const [[daily, sliced] = []] = sql(
    `SELECT (SELECT COALESCE(sum(ms), 0) FROM "UsageDaily" WHERE "workspaceId" = '${workspaceId}'),
            (SELECT COALESCE(sum(${ms('"endAt"')} - ${ms('"startAt"')}), 0) FROM "UsageSlice"
             WHERE "workspaceId" = '${workspaceId}')`,
  );
  expect(daily, 'the daily rollup holds each slice once').toBe(sliced);
  const billed = slices.reduce((sum, s) => sum + (s.end - s.start), 0);
  return { slices, billed };
}

/** When the container ran, from its own state changes: [running at, next change at] per period. */
function runningPeriods(containerId: string): { start: number; end: number; to: string }[] {
  const events = sql(
    `SELECT "toState", ${ms('at')} FROM "ContainerEvent" WHERE "containerId" = '${containerId}' ORDER BY seq`,
  ).map(([state, at]) => ({ state, at: Number(at) }));
  return events.flatMap((event, i) => {
    const next = events[i + 1];
    return event.state === 'running' && next ? [{ start: event.at, end: next.at, to: next.state ?? '' }] : [];
  });
}

async function stopKernel(page: Page, workspaceId: string, notebookId: string) {
  const stopped = await callMutation(page, 'notebook.shutdownKernel', { workspaceId, notebookId });
  expect(stopped.status).toBe(200);
}

test('a web server killed with -9 mid-run: the running kernel is billed for every second, once', async ({
  browser,
}) => {
  const { page, workspaceId, notebookId, containerId } = await runningNotebook(browser);
  await web.proc.kill9();
  // The kernel runs on while no process meters it (20 s: more than a heartbeat, less than the
  // 45 s after which an open slice counts as orphaned).
  await new Promise((resolve) => setTimeout(resolve, 20_000));
  await web.restart();
  await expect(output(page, 1)).toContainText('done', { timeout: 180_000 });
  await stopKernel(page, workspaceId, notebookId);
  await settled(containerId);

  const periods = runningPeriods(containerId);
  expect(periods).toHaveLength(1);
  const [period] = periods;
  const { slices, billed } = ledger(containerId, workspaceId);
  expect(slices).toHaveLength(1);
  expect(slices[0]).toMatchObject({ start: period?.start, end: period?.end, reason: 'stopped' });
  expect(billed).toBe((period?.end ?? 0) - (period?.start ?? 0));
  await page.context().close();
});

test('a kernel gateway killed with -9 mid-run: billed while its kernel lived, up to a heartbeat, once', async ({
  browser,
}) => {
  const { page, workspaceId, notebookId, containerId } = await runningNotebook(browser);
  const killedAt = Date.now();
  await gateway.proc.kill9();
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  // The gateway comes back: it takes the live sandbox back, or says it no longer runs the kernel.
  await gateway.restart();
  // Registered again and beaten once: by then it has stopped every kernel it did not take back.
  await expect
    .poll(
      () =>
        sql(`SELECT count(*) FROM "Node" WHERE "registeredAt" > to_timestamp(${killedAt} / 1000.0)
             AND "heartbeatAt" > "registeredAt"`)[0]?.[0],
      { timeout: 180_000 },
    )
    .toBe('1');
  const [[state] = []] = sql(`SELECT state FROM "Container" WHERE id = '${containerId}'`);
  const adopted = state === 'running';
  if (adopted) await stopKernel(page, workspaceId, notebookId);
  await settled(containerId);

  const periods = runningPeriods(containerId);
  expect(periods).toHaveLength(1);
  const [period] = periods;
  const { slices, billed } = ledger(containerId, workspaceId);
  const story = JSON.stringify({
    killedAt,
    adopted,
    slices,
    events: sql(
      `SELECT seq, "toState", ${ms('at')}, code, reason FROM "ContainerEvent" WHERE "containerId" = '${containerId}' ORDER BY seq`,
    ),
  });
  expect(slices[0]?.start, story).toBe(period?.start);
  if (adopted) {
    // The kernel lived through the outage: every second of it is billed, once.
    expect(billed, story).toBe((period?.end ?? 0) - (period?.start ?? 0));
  } else {
    // Lost with the gateway: billed up to at most one heartbeat (the gateway's every 2 s, the meter's
    // every 5 s) before the kill, not the downtime until the restart noticed it.
    expect(slices, story).toHaveLength(1);
    expect(slices[0]?.end, story).toBeLessThanOrEqual(killedAt + 1_000);
    expect(slices[0]?.end, story).toBeGreaterThanOrEqual(killedAt - 15_000);
  }

  // After recovery a new kernel is metered from its own start.
  await page.reload();
  await page.getByRole('button', { name: 'Run cell 1' }).click();
  let next = '';
  await expect
    .poll(
      () => {
        next =
          sql(
            `SELECT id FROM "Container" WHERE "workspaceId" = '${workspaceId}' AND state = 'running'`,
          )[0]?.[0] ?? '';
        return next !== '' && next !== containerId;
      },
      { timeout: 180_000 },
    )
    .toBe(true);
  await expect
    .poll(() => sql(`SELECT count(*) FROM "UsageSlice" WHERE "containerId" = '${next}'`)[0]?.[0], {
      timeout: 60_000,
    })
    .toBe('1');
  await page.context().close();
});
