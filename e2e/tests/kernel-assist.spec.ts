import { expect, test } from '@playwright/test';
import { cell, openNotebook, output, setSource } from '../support/notebook.ts';
import { createTeam } from '../support/team.ts';

// Kernels are real runsc sandboxes: the first run of a notebook may wait for a cold start.
test.setTimeout(180_000);

test('the kernel completes attributes and shows docs on hover once the notebook has run', async ({
  browser,
}) => {
  const team = await createTeam(browser);
  const { alice } = team;
  await openNotebook(alice.page, team.notebookUrl);
  await setSource(alice.page, 1, 'import os\nprint("ready")');
  await alice.page.getByRole('button', { name: 'Run cell 1' }).click();
  await expect(output(alice.page, 1)).toContainText('ready', { timeout: 90_000 });

  await setSource(alice.page, 1, 'import os\nos.pa');
  await alice.page.keyboard.press('Control+Space');
  const suggestions = alice.page.locator('.suggest-widget .monaco-list-row');
  const path = suggestions.filter({ hasText: /^path/ }).first();
  await expect(path).toBeVisible({ timeout: 10_000 });
  // Escape closes the suggestions without leaving edit mode, so typing goes on in the cell.
  await alice.page.keyboard.press('Escape');
  await expect(alice.page.locator('.suggest-widget')).toBeHidden();
  await expect(cell(alice.page, 1)).toHaveClass(/editing/);
  // `os.pa` would offer `pardir` first; `os.pat` makes `path` the one Enter takes.
  await alice.page.keyboard.type('t');
  await expect(cell(alice.page, 1).locator('.view-lines')).toContainText('os.pat');
  await alice.page.keyboard.press('Control+Space');
  await expect(path).toBeVisible({ timeout: 10_000 });
  await alice.page.keyboard.press('Enter');
  await expect(cell(alice.page, 1).locator('.view-lines')).toContainText('os.path');

  await setSource(alice.page, 1, 'len');
  await cell(alice.page, 1).locator('.view-lines').getByText('len').hover();
  // Monaco keeps a hidden glyph-margin hover around as well.
  await expect(alice.page.locator('.monaco-hover:not(.hidden)')).toContainText('Return the number of items', {
    timeout: 10_000,
  });
  await team.close();
});
