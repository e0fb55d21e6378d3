import { expect, test } from '@playwright/test';
import { openNotebook, setSource } from '../support/notebook.ts';
import { createTeam } from '../support/team.ts';

// A cron tick comes within a minute, then the run starts a real runsc kernel.
test.setTimeout(240_000);

test('an editor schedules a notebook every minute and sees its run appear with its output', async ({
  browser,
}) => {
  const team = await createTeam(browser);
  const page = team.bob.page;
  await openNotebook(page, team.notebookUrl);
  await setSource(page, 1, 'print("scheduled", 6 * 7)');

  await page.getByRole('button', { name: 'Schedule' }).click();
  const dialog = page.getByRole('dialog', { name: 'Schedule' });
  await dialog.getByRole('textbox', { name: 'Cron expression' }).fill('* * * * *');
  await dialog.getByRole('textbox', { name: 'Time zone' }).fill('Europe/Berlin');
  await dialog.getByRole('button', { name: 'Create schedule' }).click();
  const state = dialog.getByRole('status').filter({ hasText: /Active|Paused/ });
  await expect(state).toContainText('Active: cron * * * * * (Europe/Berlin)');

  const runs = dialog.getByRole('table', { name: 'Scheduled runs' });
  // A slow first run may see the next tick skipped above it; the succeeded run is the one to read.
  const done = runs.getByRole('row').filter({ hasText: 'succeeded' }).first();
  await expect(done).toBeVisible({ timeout: 200_000 });
  await done.getByText('Log').click();
  await expect(done).toContainText('scheduled 42');

  // Paused, the schedule says so and stops.
  await dialog.getByRole('button', { name: 'Pause' }).click();
  await expect(state).toContainText('Paused');
  await team.close();
});
