import { type Browser, expect, type Page, test } from '@playwright/test';
import { callMutation, callQuery, signUp, uniqueEmail } from '../support/fixtures.ts';
import { cell, editorText, openNotebook, output, setSource } from '../support/notebook.ts';
import { createDatabase, type OwnStack, ownStack, startWeb } from '../support/processes.ts';
import { startScratchPostgres } from '../support/scratch-postgres.ts';

// Faults against real processes: this file starts its own database, kernel gateway and web server
// so it can kill -9 them, and asserts what the person at the notebook sees and what is stored.

test.setTimeout(420_000);

let gateway: OwnStack['gateway'];
let web: OwnStack['web'];
ownStack((stack) => ({ gateway, web } = stack));

function data<T>(body: unknown): T {
  return (body as { result: { data: { json: T } } }).result.data.json;
}

const CELLS = [
  // Prints for about 30 s, so a restart happens in the middle.
  "x = 7\nimport time\nfor i in range(60):\n    print('tick', i, flush=True)\n    time.sleep(0.5)\nprint('done', x)",
  "print('after', x * 6)",
  '# notes',
];

function ipynb(sources: string[]): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
    cells: sources.map((source, index) => ({
      id: `cell-${index}`,
      cell_type: 'code',
      source,
      metadata: {},
      outputs: [],
      execution_count: null,
    })),
  });
}

/** A signed-up user with a notebook holding `cells`, opened in a page of the web app at `baseUrl`. */
async function notebookPage(
  browser: Browser,
  baseUrl = web.url,
  cells = CELLS,
): Promise<{ page: Page; notebookId: string; workspaceId: string }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signUp(page, { name: 'Ada Fault', email: uniqueEmail('ada'), password: 'a long enough password' });
  const [workspace] = data<{ id: string; slug: string }[]>(
    (await callQuery(page, 'workspace.list', undefined)).body,
  );
  if (!workspace) throw new Error('no workspace');
  const created = await callMutation(page, 'notebook.importIpynb', {
    workspaceId: workspace.id,
    name: 'Faults',
    content: ipynb(cells),
  });
  expect(created.status).toBe(200);
  const notebookId = data<{ id: string }>(created.body).id;
  await openNotebook(page, `${baseUrl}/w/${workspace.slug}/n/${notebookId}`);
  return { page, notebookId, workspaceId: workspace.id };
}

const kernelStatus = (page: Page) => page.getByRole('status', { name: /^Kernel:/ });

test('a web server killed with -9 mid-run comes back to the running kernel: output keeps arriving, the queue and variables survive, offline edits are kept', async ({
  browser,
}) => {
  const { page, notebookId, workspaceId } = await notebookPage(browser);
  const run = await callMutation(page, 'notebook.run', { workspaceId, notebookId, mode: 'all', cellIds: [] });
  expect(run.status).toBe(200);
  await expect(output(page, 1)).toContainText('tick 2', { timeout: 180_000 });
  await web.proc.kill9();
  // The kill must land mid-run for this test to mean anything.
  await expect(output(page, 1)).not.toContainText('done');
  // The page stays a notebook: a banner, and an editor that still takes typing.
  await expect(page.getByText(/Offline: reconnecting/)).toBeVisible({ timeout: 20_000 });
  await expect(page.getByText('Opening notebook…')).toHaveCount(0);
  await setSource(page, 3, '# written while the server was down');
  await expect.poll(() => editorText(page, 3)).toBe('# written while the server was down');
  await expect(page.getByRole('status').filter({ hasText: /^Saved$/ })).toHaveCount(0);

  await web.restart();
  await expect(page.getByText(/Offline: reconnecting/)).toBeHidden({ timeout: 60_000 });
  await expect(output(page, 1)).toContainText('done 7', { timeout: 120_000 });
  // The queued cell ran after it, in the same kernel: its variable is still there.
  await expect(output(page, 2)).toContainText('after 42', { timeout: 60_000 });
  await expect(page.getByRole('status').filter({ hasText: /^Saved$/ })).toBeVisible({ timeout: 30_000 });
  const ticks = ((await output(page, 1).textContent()) ?? '').match(/tick \d+/g) ?? [];
  // Every line once: nothing lost across the restart, and the cell did not run a second time.
  // (Sorted: output the dead process wrote but had not stored comes back from this tab's copy, and
  // the CRDT may place it after what the new process appended meanwhile.)
  expect(ticks.sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)))).toEqual(
    Array.from({ length: 60 }, (_, i) => `tick ${i}`),
  );

  // Stored, not only shown: a fresh page load reads it all back from the database.
  await page.reload();
  await expect(output(page, 1)).toContainText('done 7', { timeout: 30_000 });
  await expect(output(page, 2)).toContainText('after 42');
  await expect.poll(() => editorText(page, 3)).toBe('# written while the server was down');
  await page.context().close();
});

test('a web server stopped gracefully (Ctrl-C) leaves kernels running for the next one', async ({
  browser,
}) => {
  const { page, notebookId, workspaceId } = await notebookPage(browser);
  const run = await callMutation(page, 'notebook.run', { workspaceId, notebookId, mode: 'all', cellIds: [] });
  expect(run.status).toBe(200);
  await expect(output(page, 1)).toContainText('tick 2', { timeout: 180_000 });
  await web.proc.stop();
  await expect(output(page, 1)).not.toContainText('done');
  await web.restart();
  await expect(output(page, 1)).toContainText('done 7', { timeout: 120_000 });
  await expect(output(page, 2)).toContainText('after 42', { timeout: 60_000 });
  await expect(output(page, 1)).not.toContainText('KernelDied');
  await page.context().close();
});

test('a kernel gateway killed with -9 mid-run takes the kernel back when it restarts: the cell goes on with its variables; a sandbox that died meanwhile is reported with why', async ({
  browser,
}) => {
  const { page, notebookId, workspaceId } = await notebookPage(browser);
  const run = await callMutation(page, 'notebook.run', { workspaceId, notebookId, mode: 'all', cellIds: [] });
  expect(run.status).toBe(200);
  await expect(output(page, 1)).toContainText('tick 2', { timeout: 180_000 });

  const before = gateway.sandboxes();
  expect(before.length).toBeGreaterThan(0);
  await gateway.proc.kill9();
  // The kill must land mid-run for this test to mean anything.
  await expect(output(page, 1)).not.toContainText('done');
  await gateway.restart();
  // Re-adopted: the same sandbox, the running cell finishes with x from before, the queue goes on.
  await expect(output(page, 1)).toContainText('done 7', { timeout: 120_000 });
  await expect(output(page, 2)).toContainText('after 42', { timeout: 60_000 });
  await expect(output(page, 1)).not.toContainText('KernelDied');
  await expect(kernelStatus(page)).toHaveAttribute('aria-label', 'Kernel: Idle');
  expect(gateway.sandboxes()).toEqual(before);

  // A sandbox that dies while no gateway runs cannot be taken back: the cell and the kernel bar say so.
  await page.getByRole('button', { name: 'Run cell 1' }).click();
  // The first run's output says 'tick 2' too: wait until the new run has replaced it.
  await expect(output(page, 1)).not.toContainText('done', { timeout: 60_000 });
  await expect(output(page, 1)).toContainText('tick 2', { timeout: 60_000 });
  await gateway.proc.kill9();
  for (const id of before) gateway.killSandbox(id);
  await gateway.restart();
  await expect(output(page, 1)).toContainText('could not take this kernel back', { timeout: 90_000 });
  await expect(kernelStatus(page)).toHaveAttribute('aria-label', 'Kernel: Dead');
  await expect(page.getByText(/variables are lost\. Run the cell again/).first()).toBeVisible();
  await expect(page.getByText(/fetch failed|ECONNREFUSED/)).toHaveCount(0);
  // What the page says is true: the restarted gateway deleted the dead sandbox, none computes on.
  await expect
    .poll(() => gateway.sandboxes().filter((id) => before.includes(id)), { timeout: 30_000 })
    .toEqual([]);

  // Running again starts a new kernel that works.
  await setSource(page, 2, "print('fresh', 6 * 7)");
  await page.getByRole('button', { name: 'Run cell 2' }).click();
  await expect(output(page, 2)).toContainText('fresh 42', { timeout: 180_000 });
  await page.context().close();
});

test('a database stopped during edits: the page never says Saved until the edits are stored, answers 503, and stores everything once it is back', async ({
  browser,
}) => {
  const postgres = await startScratchPostgres();
  const scratchDb = await createDatabase(postgres.url);
  const scratchWeb = await startWeb({ databaseUrl: scratchDb.url, gateway });
  const saved = (page: Page) => page.getByRole('status').filter({ hasText: /^Saved$/ });
  try {
    process.env.KILN_E2E_BASE_URL = scratchWeb.url;
    const { page } = await notebookPage(browser, scratchWeb.url, ['a = 1']);
    await setSource(page, 1, 'a = 1  # before');
    await expect(saved(page)).toBeVisible({ timeout: 30_000 });

    postgres.stop();
    await setSource(page, 1, 'a = 2  # during the outage');
    // Not stored, so not "Saved": neither at once nor after a while of trying.
    await expect(saved(page)).toHaveCount(0, { timeout: 5000 });
    await page.waitForTimeout(8000);
    await expect(saved(page)).toHaveCount(0);
    await setSource(page, 1, 'a = 3  # still during the outage');
    await expect.poll(() => editorText(page, 1)).toBe('a = 3  # still during the outage');

    // The API says what happened and when to come back, instead of a bare 500.
    const answer = await page.evaluate(async () => {
      const response = await fetch('/api/trpc/workspace.list');
      return {
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        body: await response.text(),
      };
    });
    expect(answer.status).toBe(503);
    expect(Number(answer.retryAfter)).toBeGreaterThan(0);
    expect(answer.body).toContain('database is not answering');

    postgres.start();
    await expect(saved(page)).toBeVisible({ timeout: 90_000 });
    await page.reload();
    await expect(cell(page, 1).locator('.view-lines')).toBeVisible({ timeout: 30_000 });
    await expect.poll(() => editorText(page, 1)).toBe('a = 3  # still during the outage');
    // One log line per cause, not one (with a stack trace) per reconnect attempt.
    const refusals = scratchWeb.proc.output().match(/notebook connections refused/g) ?? [];
    expect(refusals.length).toBeLessThanOrEqual(2);
    await page.context().close();
  } finally {
    process.env.KILN_E2E_BASE_URL = web.url;
    await scratchWeb.close();
    postgres.close();
  }
});
