import { expect, test } from '@playwright/test';
import { appUrl, callMutation } from '../support/fixtures.ts';
import { cell, openNotebook, output, setSource } from '../support/notebook.ts';
import { soloUser } from '../support/workspace.ts';

// Billing as a user meets it: a cell's cost on the cell and in the kernel bar, the usage page, a hard
// cap that pauses the running kernel with the reason, and an upgrade through the local Stripe Checkout.
// An 8-core, 24 GiB kernel costs about $0.57 an hour, so a 1-cent hard cap is reached in about a minute.
test.setTimeout(480_000);

const MACHINE = { cpu: 8, memoryMiB: 24 * 1024, gpu: null };

test('a cell shows its cost, a hard cap pauses the kernel with why, and an upgrade lifts the limits', async ({
  browser,
}) => {
  const grace = await soloUser(browser);
  const page = grace.page;
  const url = await grace.notebook('Metered', [
    { cell_type: 'code', source: 'x = 6 * 7\nprint(x)' },
    { cell_type: 'code', source: 'print(x + 1)' },
  ]);
  const notebookId = url.split('/').pop() as string;
  const set = await callMutation(page, 'notebook.setResources', {
    workspaceId: grace.workspaceId,
    notebookId,
    ...MACHINE,
  });
  expect(set.status).toBe(200);

  await openNotebook(page, url);
  await page.getByRole('button', { name: 'Run cell 1' }).click();
  await expect(output(page, 1)).toContainText('42', { timeout: 180_000 });
  // The cell says how long it ran and what its kernel's machine cost meanwhile.
  const cost = cell(page, 1).getByTestId('cell-run-cost');
  await expect(cost).toContainText(/^Ran \d+(\.\d)?s · \$0\.\d+$/, { timeout: 60_000 });
  // The kernel bar: cost so far and the hourly rate of this machine.
  await expect(page.getByTestId('kernel-cost')).toContainText(/\$0\.\d+ · \$0\.5\d\/h/, { timeout: 60_000 });

  // The usage page lists the running kernel and this notebook's cost.
  const usage = await grace.context.newPage();
  await usage.goto(appUrl(`/w/${grace.slug}/usage`));
  const running = usage.getByRole('table', { name: 'Running kernels' });
  await expect(running.getByRole('row', { name: /Metered/ })).toContainText('$0.5', { timeout: 60_000 });
  await expect(usage.getByRole('region', { name: 'By notebook' })).toContainText('Metered');

  // A 1-cent hard cap: within about a minute the kernel is paused, with the reason, in the notebook.
  await usage.getByLabel('Monthly budget in dollars').fill('0.01');
  await usage.getByRole('checkbox', { name: /Hard cap/ }).check();
  await usage.getByRole('button', { name: 'Save budget' }).click();
  await expect(usage.getByText('Saved')).toBeVisible();
  await expect(page.getByRole('status', { name: 'Kernel: Paused' })).toBeVisible({ timeout: 180_000 });
  await expect(page.getByTestId('kernel-paused')).toContainText(
    'reached its monthly budget of $0.01, which is a hard cap',
  );
  await expect(usage.getByTestId('spend-stop')).toContainText('hard cap', { timeout: 30_000 });
  await expect(usage.getByRole('table', { name: 'Running kernels' })).toHaveCount(0, { timeout: 60_000 });

  // Upgrade through the local Stripe Checkout page; the Team limits show once Stripe says it is paid.
  await page.getByTestId('kernel-paused').getByRole('link', { name: 'Usage and upgrade' }).click();
  await expect(page).toHaveURL(/\/usage$/);
  await expect(page.getByTestId('plan-name')).toHaveText('Starter');
  await expect(page.getByTestId('limit-containers')).toHaveText('100');
  await page.getByRole('button', { name: 'Upgrade to Team' }).click();
  await expect(page.getByRole('heading', { name: 'Subscribe' })).toBeVisible({ timeout: 60_000 });
  await page.getByRole('button', { name: 'Pay and subscribe' }).click();
  await expect(page).toHaveURL(/\/usage\?upgraded=1$/, { timeout: 60_000 });
  await expect(page.getByTestId('plan-name')).toHaveText('Team', { timeout: 60_000 });
  await expect(page.getByTestId('limit-containers')).toHaveText('1,000');

  // The cap is the workspace's own: lifting it lets the paused kernel wake with its variables.
  await page.getByLabel('Monthly budget in dollars').fill('');
  await page.getByRole('button', { name: 'Save budget' }).click();
  await expect(page.getByTestId('spend-stop')).toHaveCount(0, { timeout: 30_000 });
  await openNotebook(page, url);
  await setSource(page, 2, 'print(x + 1)');
  await page.getByRole('button', { name: 'Run cell 2' }).click();
  await expect(output(page, 2)).toContainText('43', { timeout: 180_000 });
  await expect(page.getByRole('status', { name: 'Kernel: Idle' })).toBeVisible({ timeout: 60_000 });
  await expect(cell(page, 2).getByTestId('cell-run-cost')).toContainText('$', { timeout: 60_000 });

  await callMutation(page, 'notebook.shutdownKernel', { workspaceId: grace.workspaceId, notebookId });
  await grace.context.close();
});
