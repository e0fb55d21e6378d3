import { readFile } from 'node:fs/promises';
import { expect, type Page, test } from '@playwright/test';
import { appUrl } from '../support/fixtures.ts';
import { createTeam } from '../support/team.ts';

async function openFiles(page: Page, slug: string) {
  await page.goto(appUrl(`/w/${slug}`));
  await page.getByRole('tab', { name: 'Files' }).click();
  return page.getByRole('region', { name: 'Workspace files' });
}

test('the Files tab browses the workspace volume: editors upload, everyone downloads, an .ipynb opens as a notebook', async ({
  browser,
}) => {
  test.setTimeout(120_000);
  const team = await createTeam(browser, 'VIEWER');
  const { alice, bob } = team;
  const files = await openFiles(alice.page, team.slug);
  await expect(files.getByText('This folder is empty.')).toBeVisible();

  await files.getByLabel('File to upload').setInputFiles({
    name: 'train.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from('epoch,loss\n1,0.5\n'),
  });
  await expect(files.getByRole('button', { name: 'train.csv', exact: true })).toBeVisible();

  const notebook = JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      {
        cell_type: 'code',
        metadata: {},
        outputs: [],
        execution_count: null,
        source: 'print("from the volume")',
      },
    ],
  });
  await files.getByLabel('File to upload').setInputFiles({
    name: 'analysis.ipynb',
    mimeType: 'application/x-ipynb+json',
    buffer: Buffer.from(notebook),
  });

  // A viewer sees the same files, can download them, and has no upload button.
  const bobFiles = await openFiles(bob.page, team.slug);
  await expect(bobFiles.getByRole('button', { name: 'train.csv', exact: true })).toBeVisible();
  await expect(bobFiles.getByRole('button', { name: 'Upload a file' })).toHaveCount(0);
  const [download] = await Promise.all([
    bob.page.waitForEvent('download'),
    bobFiles.getByRole('link', { name: 'Download train.csv' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('train.csv');
  expect(await readFile((await download.path()) as string, 'utf8')).toBe('epoch,loss\n1,0.5\n');

  // Opening the .ipynb imports it and shows it as a notebook in its own tab.
  await files.getByRole('button', { name: 'analysis.ipynb', exact: true }).click();
  await expect(alice.page).toHaveURL(/\/n\/[0-9a-f-]+$/, { timeout: 30_000 });
  await expect(alice.page.getByRole('region', { name: 'Cell 1' })).toContainText('from the volume');
  await expect(alice.page.getByRole('tab', { name: /analysis/ })).toBeVisible();
  await team.close();
});
