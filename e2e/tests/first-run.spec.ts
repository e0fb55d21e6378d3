import { expect, test } from '@playwright/test';
import { appUrl, signUp, uniqueEmail } from '../support/fixtures.ts';
import { cell, keywordColours } from '../support/notebook.ts';

test('a visitor sees what Kiln is, signs up, and opens a sample notebook with a kernel, a plot and an invite', async ({
  page,
}) => {
  await page.goto(appUrl('/'));
  await expect(page.getByRole('heading', { name: /collaborative GPU notebooks/i })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Sign up free' })).toBeVisible();

  await signUp(page, { name: 'Ada Lovelace', email: uniqueEmail('ada'), password: 'a long enough password' });
  // The first screen offers the sample notebook.
  await expect(page.getByRole('heading', { name: 'Start with a sample notebook' })).toBeVisible();
  await page.getByRole('button', { name: 'Open the sample notebook' }).click();
  await expect(page).toHaveURL(/\/n\/[0-9a-f-]{36}$/);
  await expect(page.getByRole('heading', { name: 'Welcome to Kiln', level: 1 }).first()).toBeVisible();
  // Its code is highlighted, kernel cell and plot cell alike; its last section invites a collaborator.
  // Monaco may already have taken the cell over from the server-rendered code, so the check is the
  // colour the user sees, not a class name.
  await expect
    .poll(async () => {
      const { word, keyword } = await keywordColours(page, 3, 'import');
      return word === keyword;
    })
    .toBe(true);
  await expect(cell(page, 5)).toContainText('plt.show()');
  await expect(cell(page, 6)).toContainText('Invite a collaborator');
  await page.getByRole('button', { name: 'Share' }).click();
  const share = page.getByRole('dialog', { name: 'Share this notebook' });
  await expect(share.getByLabel('Email')).toBeVisible();
  await share.getByRole('button', { name: 'Done' }).click();

  // Creating a notebook opens it, and it gets a tab beside the sample.
  await page.getByRole('link', { name: 'Notebooks', exact: true }).click();
  await page.getByRole('button', { name: 'Create notebook' }).click();
  await page.getByLabel('Notebook name').fill('Scratch');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Scratch' })).toBeVisible();
  const tabs = page.getByRole('tablist', { name: 'Open notebooks' });
  await expect(tabs.getByRole('tab', { name: 'Welcome to Kiln' })).toBeVisible();
  await expect(tabs.getByRole('tab', { name: 'Scratch' })).toHaveAttribute('aria-selected', 'true');
  // The sidebar's search filters the workspace's notebooks.
  const list = page.getByRole('list', { name: 'Workspace notebooks' });
  await page.getByLabel('Search notebooks').fill('welc');
  await expect(list.getByRole('link')).toHaveText(['Welcome to Kiln']);
});
