import { expect, test } from '@playwright/test';
import { callMutation } from '../support/fixtures.ts';
import { openNotebook, output, setSource } from '../support/notebook.ts';
import { soloUser } from '../support/workspace.ts';

// The e2e gateway is one node with 60 GiB declared. A kernel of 32 GiB leaves less than another
// 32 GiB one needs, whatever the other tests' 2 GiB kernels hold, so the next ones must wait.
test.setTimeout(300_000);

const BIG = { cpu: 1, memoryMiB: 32 * 1024, gpu: null };

test('a kernel that does not fit waits with its place and reason, can be cancelled, and gives up after the timeout', async ({
  browser,
}) => {
  const grace = await soloUser(browser);
  const page = grace.page;
  const notebookId = (url: string) => url.split('/').pop() as string;
  const urls = {
    filler: await grace.notebook('Filler', [{ cell_type: 'code', source: "print('holding the memory')" }]),
    second: await grace.notebook('Second', [{ cell_type: 'code', source: "print('second ran')" }]),
    third: await grace.notebook('Third', [{ cell_type: 'code', source: "print('third ran')" }]),
  };
  for (const url of Object.values(urls)) {
    const set = await callMutation(page, 'notebook.setResources', {
      workspaceId: grace.workspaceId,
      notebookId: notebookId(url),
      ...BIG,
    });
    expect(set.status).toBe(200);
  }

  await openNotebook(page, urls.filler);
  await page.getByRole('button', { name: 'Run cell 1' }).click();
  await expect(output(page, 1)).toContainText('holding the memory', { timeout: 120_000 });
  // The bar shows what the kernel got: its memory, and no GPU.
  await expect(page.getByRole('button', { name: /1 CPU · 32 GB · no GPU/ })).toBeVisible();

  // The second waits first in line; the third waits behind it, each told why.
  const second = await grace.context.newPage();
  await openNotebook(second, urls.second);
  await second.getByRole('button', { name: 'Run cell 1' }).click();
  await expect(second.getByRole('status', { name: 'Kernel: Waiting for a machine' })).toBeVisible({
    timeout: 30_000,
  });
  await expect(second.getByTestId('kernel-queue')).toContainText(
    // The workspace's /workspace lives on the one e2e node, so the kernel waits for that node.
    'waiting for 1 CPU and 32 GiB of memory on node e2e-node (it holds /workspace): 0 ahead',
  );
  const third = await grace.context.newPage();
  await openNotebook(third, urls.third);
  await third.getByRole('button', { name: 'Run cell 1' }).click();
  await expect(third.getByTestId('kernel-queue')).toContainText(
    '32 GiB of memory on node e2e-node (it holds /workspace): 1 ahead',
    {
      timeout: 30_000,
    },
  );

  // Cancel gives the place up: no kernel, no error, and the third moves up.
  await second.getByTestId('kernel-queue').getByRole('button', { name: 'Cancel' }).click();
  await expect(second.getByRole('status', { name: 'Kernel: No kernel' })).toBeVisible({ timeout: 30_000 });
  await expect(output(second, 1)).toHaveCount(0);
  await expect(third.getByTestId('kernel-queue')).toContainText('0 ahead', { timeout: 30_000 });

  // The third waits out the configured timeout (25 s) and says so in the cell and the bar.
  await expect(output(third, 1)).toContainText('Gave up after waiting', { timeout: 90_000 });
  await expect(output(third, 1)).toContainText('nothing became free in time');
  await expect(third.getByRole('status', { name: 'Kernel: Dead' })).toBeVisible();

  // Setting the filler's notebook free lets a new start of the third run.
  await callMutation(page, 'notebook.shutdownKernel', {
    workspaceId: grace.workspaceId,
    notebookId: notebookId(urls.filler),
  });
  await setSource(third, 1, "print('third ran')");
  await third.getByRole('button', { name: 'Run cell 1' }).click();
  await expect(output(third, 1)).toContainText('third ran', { timeout: 120_000 });
  await callMutation(page, 'notebook.shutdownKernel', {
    workspaceId: grace.workspaceId,
    notebookId: notebookId(urls.third),
  });
  await grace.context.close();
});
