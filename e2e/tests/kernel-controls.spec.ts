import { expect, test } from '@playwright/test';
import { openNotebook, output, setSource } from '../support/notebook.ts';
import { createTeam } from '../support/team.ts';

// Kernels are real runsc sandboxes: the first run of a notebook may wait for a cold start.
test.setTimeout(180_000);

test('restarting the kernel asks first, and only a confirmed restart loses the variables', async ({
  browser,
}) => {
  const team = await createTeam(browser);
  const { alice } = team;
  const page = alice.page;
  await openNotebook(page, team.notebookUrl);
  await setSource(page, 1, 'kept = 41\nprint(kept + 1)');
  await page.getByRole('button', { name: 'Run cell 1' }).click();
  await expect(output(page, 1)).toContainText('42', { timeout: 90_000 });

  // A click on Restart only asks; cancelling keeps the kernel and its variables.
  await page.getByRole('button', { name: 'Restart kernel' }).click();
  const question = page.getByRole('dialog', { name: 'Restart the kernel?' });
  await expect(question).toBeVisible();
  await question.getByRole('button', { name: 'Cancel' }).click();
  await expect(question).toBeHidden();
  await setSource(page, 1, 'print(kept * 2)');
  await page.getByRole('button', { name: 'Run cell 1' }).click();
  await expect(output(page, 1)).toContainText('82', { timeout: 30_000 });

  // Confirmed, the kernel restarts and the variable is gone.
  await page.getByRole('button', { name: 'Restart kernel' }).click();
  await question.getByRole('button', { name: 'Restart' }).click();
  await expect(question).toBeHidden({ timeout: 60_000 });
  await setSource(page, 1, "print('kept' in globals())");
  await page.getByRole('button', { name: 'Run cell 1' }).click();
  await expect(output(page, 1)).toContainText('False', { timeout: 60_000 });
  await team.close();
});
