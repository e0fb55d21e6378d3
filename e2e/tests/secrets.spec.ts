import { randomBytes } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { appUrl } from '../support/fixtures.ts';
import { openNotebook, output, setSource } from '../support/notebook.ts';
import { createTeam } from '../support/team.ts';

// Kernels are real runsc sandboxes: the first run of a notebook may wait for a cold start.
test.setTimeout(180_000);

test('an admin creates a secret, a notebook uses it, and its value only ever shows masked', async ({
  browser,
}) => {
  const team = await createTeam(browser);
  const { alice, bob } = team;
  const value = `kiln-e2e-${randomBytes(12).toString('hex')}`;

  await alice.page.goto(appUrl(`/w/${team.slug}/secrets`));
  await alice.page.getByLabel('Secret name').fill('e2e-api');
  await alice.page.getByLabel('Variable name 1').fill('X');
  await alice.page.getByLabel('Value 1').fill(value);
  await alice.page.getByRole('button', { name: 'Create secret' }).click();
  const table = alice.page.getByRole('table', { name: 'Secrets' });
  await expect(table.getByRole('row', { name: /e2e-api/ })).toContainText('X');
  // Saved, the value is gone from the page and never comes back from the server.
  await expect(alice.page.getByLabel('Value 1')).toHaveValue('');
  await alice.page.reload();
  await expect(table.getByRole('row', { name: /e2e-api/ })).toBeVisible();
  expect(await alice.page.content()).not.toContain(value);

  // An editor sees the name only, and cannot create or change secrets.
  await bob.page.goto(appUrl(`/w/${team.slug}/secrets`));
  await expect(bob.page.getByRole('table', { name: 'Secrets' })).toContainText('e2e-api');
  await expect(bob.page.getByText('Only admins and owners can create or change secrets.')).toBeVisible();
  await expect(bob.page.getByRole('button', { name: 'Delete secret e2e-api' })).toHaveCount(0);

  // The notebook names the secret; its kernel gets X, and the printed value is masked.
  const page = alice.page;
  await openNotebook(page, team.notebookUrl);
  await page.getByRole('button', { name: /^Secrets/ }).click();
  const picker = page.getByRole('dialog', { name: 'Secrets for this notebook' });
  await picker.getByRole('checkbox', { name: /e2e-api/ }).check();
  await picker.getByRole('button', { name: 'Use these secrets' }).click();
  await expect(picker).toBeHidden();
  await expect(page.getByRole('button', { name: 'Secrets (1)' })).toBeVisible();

  await setSource(page, 1, 'import os; print(os.environ["X"])');
  await page.getByRole('button', { name: 'Run cell 1' }).click();
  await expect(output(page, 1)).toContainText('********', { timeout: 120_000 });
  await expect(output(page, 1)).not.toContainText(value);

  await setSource(page, 1, 'print(len(os.environ["X"]))');
  await page.getByRole('button', { name: 'Run cell 1' }).click();
  await expect(output(page, 1)).toContainText(String(value.length), { timeout: 60_000 });
  expect(await page.content()).not.toContain(value);
  await team.close();
});

test('an admin changes a secret in its edit dialog and deletes it after confirming', async ({ browser }) => {
  const team = await createTeam(browser);
  const page = team.alice.page;
  await page.goto(appUrl(`/w/${team.slug}/secrets`));
  await page.getByLabel('Secret name').fill('e2e-edit');
  await page.getByLabel('Variable name 1').fill('OLD');
  await page.getByLabel('Value 1').fill('old-value-1234');
  await page.getByRole('button', { name: 'Create secret' }).click();
  const row = page.getByRole('table', { name: 'Secrets' }).getByRole('row', { name: /e2e-edit/ });
  await expect(row).toContainText('OLD');

  // One variable removed and another added in the dialog; the table shows the new set.
  await page.getByRole('button', { name: 'Edit secret e2e-edit' }).click();
  const dialog = page.getByRole('dialog', { name: 'Edit secret e2e-edit' });
  await dialog.getByRole('checkbox', { name: 'OLD' }).check();
  await dialog.getByLabel('Variable name 1').fill('NEW');
  await dialog.getByLabel('Value 1').fill('new-value-5678');
  await dialog.getByRole('button', { name: 'Save secret' }).click();
  await expect(dialog).toBeHidden();
  await expect(row).toContainText('NEW');
  await expect(row).not.toContainText('OLD');

  // Deleting asks first; confirmed, the secret is gone.
  await page.getByRole('button', { name: 'Delete secret e2e-edit' }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete secret?' });
  await expect(confirm).toContainText('e2e-edit');
  await confirm.getByRole('button', { name: 'Delete secret' }).click();
  await expect(confirm).toBeHidden();
  await expect(page.getByText('No secrets yet.')).toBeVisible();
  await team.close();
});
