import { expect, test } from '@playwright/test';
import { appUrl } from '../support/fixtures.ts';
import { openNotebook, output } from '../support/notebook.ts';
import { soloUser } from '../support/workspace.ts';

// An image build runs apt-get and pip on the server (minutes on a loaded 2-core machine), then a kernel
// boots on the image and its snapshot is taken.
test.setTimeout(900_000);

test('define an image, watch it build, pick it for a notebook and import its packages in a cell', async ({
  browser,
}) => {
  const grace = await soloUser(browser);
  const page = grace.page;
  const notebookUrl = await grace.notebook('On my image', [
    {
      cell_type: 'code',
      source: 'import kiln_e2e_probe, termcolor\nprint(kiln_e2e_probe.GREETING, termcolor.__name__)',
    },
  ]);

  await page.goto(appUrl(`/w/${grace.slug}/images`));
  await page.getByLabel('Image name').fill('probe');
  // A Debian package from the server's apt sources and a wheel from the operator's package index.
  await page.getByLabel('Debian packages').fill('python3-termcolor');
  await page.getByLabel('Python packages').fill('kiln-e2e-probe==1.0');
  await page.getByRole('button', { name: 'Build image' }).click();

  // The build log opens and grows as apt-get and pip run, then says the build finished.
  const build = page.getByRole('dialog', { name: 'Build of probe' });
  const log = build.getByTestId('image-build-log');
  await expect(log).toContainText('== apt-get install python3-termcolor', { timeout: 300_000 });
  await expect(build.getByText('Build finished.')).toBeVisible({ timeout: 600_000 });
  await expect(log).toContainText('Successfully installed kiln-e2e-probe-1.0');
  await build.getByRole('button', { name: 'Close' }).click();
  await expect(page.getByTestId('image-state-probe')).toHaveText('Ready');

  // The machine picker offers the image; the notebook keeps the choice.
  await openNotebook(page, notebookUrl);
  await page.getByRole('button', { name: /1 CPU · 2 GB · no GPU/ }).click();
  const machine = page.getByRole('dialog', { name: 'Change machine' });
  await machine.getByLabel('Image').selectOption({ label: 'probe' });
  await machine.getByRole('button', { name: 'Change machine' }).click();
  await expect(machine).toBeHidden();
  await expect(page.getByRole('button', { name: /no GPU · probe/ })).toBeVisible();
  await page.reload();
  await expect(page.getByRole('button', { name: /no GPU · probe/ })).toBeVisible({ timeout: 60_000 });

  await page.getByRole('button', { name: 'Run cell 1' }).click();
  await expect(output(page, 1)).toContainText('hello from a workspace image termcolor', { timeout: 300_000 });
  await grace.context.close();
});
