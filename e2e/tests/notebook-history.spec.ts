import { expect, test } from '@playwright/test';
import { cell, editorText, openNotebook, setSource } from '../support/notebook.ts';
import { soloUser } from '../support/workspace.ts';

// The web app runs with KILN_HISTORY_IDLE_SECONDS=2 (global-setup): a version follows a pause.
test('edits are versioned automatically; a version shows what changed and restores from its preview', async ({
  browser,
}) => {
  const user = await soloUser(browser);
  const { page } = user;
  const url = await user.notebook('History', [{ cell_type: 'code', source: 'threshold = 0.5' }]);
  await openNotebook(page, url);
  const historyButton = page
    .getByRole('toolbar', { name: 'Notebook actions' })
    .getByRole('button', { name: 'History' });

  await setSource(page, 1, 'threshold = 0.9');
  const history = page.getByRole('dialog', { name: 'History' });
  const automatic = history.getByRole('listitem').filter({ hasText: 'Automatic' });
  await expect
    .poll(
      async () => {
        await historyButton.click();
        const count = await automatic.count();
        await page.keyboard.press('Escape');
        return count;
      },
      { timeout: 30_000, intervals: [2000] },
    )
    .toBeGreaterThan(0);

  // A later edit; the automatic version still has 0.9 and its preview shows the change since.
  await setSource(page, 1, 'threshold = 0.1');
  await historyButton.click();
  await automatic.last().getByRole('button', { name: 'Preview' }).click();
  const preview = page.getByRole('dialog', { name: /^Preview: Automatic save/ });
  const changes = preview.getByRole('list', { name: 'Changes since this version' });
  await expect(changes.locator('.diff-removed')).toContainText('threshold = 0.9');
  await expect(changes.locator('.diff-added')).toContainText('threshold = 0.1');

  await preview.getByRole('button', { name: 'Restore this version' }).click();
  const confirm = page.getByRole('dialog', { name: 'Restore this version?' });
  await confirm.getByRole('button', { name: 'Restore version' }).click();
  await expect(confirm).toBeHidden();
  await expect.poll(() => editorText(page, 1)).toBe('threshold = 0.9');
  await expect(cell(page, 1)).toContainText('threshold = 0.9');
  await user.context.close();
});
