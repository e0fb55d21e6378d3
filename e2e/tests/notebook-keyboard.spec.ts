import { expect, type Page, test } from '@playwright/test';
import { cell, editorText, openNotebook } from '../support/notebook.ts';
import { soloUser } from '../support/workspace.ts';

/** Selects cell `n` in command mode, as a click on its prompt does. */
async function select(page: Page, n: number): Promise<void> {
  await cell(page, n)
    .locator('.cell-gutter')
    .click({ position: { x: 10, y: 10 } });
  await expect(cell(page, n)).toHaveClass(/selected/);
}

const sources = (page: Page) =>
  page
    .locator('section.cell')
    .evaluateAll((cells) =>
      cells.map((c) =>
        (c.querySelector('.static-code, .view-lines, .markdown')?.textContent ?? '').replace(/\u00a0/g, ' '),
      ),
    );

test("Jupyter's command-mode keys: copy, cut, paste, merge, shortcuts, checkpoint, palette", async ({
  browser,
}) => {
  const user = await soloUser(browser);
  const { page } = user;
  const url = await user.notebook('Keys', [
    { cell_type: 'code', source: 'a = 1' },
    { cell_type: 'code', source: 'b = 2' },
    { cell_type: 'code', source: 'c = 3' },
  ]);
  await openNotebook(page, url);

  // C then V pastes a copy below; X cuts; Shift+V pastes above.
  await select(page, 1);
  await page.keyboard.press('c');
  await page.keyboard.press('v');
  await expect(page.locator('section.cell')).toHaveCount(4);
  // The pasted cell's editor mounts after the cell appears; its text is there once it has.
  await expect.poll(() => editorText(page, 2)).toBe('a = 1');
  await select(page, 4);
  await page.keyboard.press('x');
  await expect(page.locator('section.cell')).toHaveCount(3);
  await select(page, 1);
  await page.keyboard.press('Shift+V');
  await expect(cell(page, 1)).toContainText('c = 3');

  // Shift+M merges with the cell below (it used to turn the cell into markdown).
  await select(page, 2);
  await page.keyboard.press('Shift+M');
  await expect(page.locator('section.cell')).toHaveCount(3);
  await expect(cell(page, 2)).toHaveAttribute('data-cell-type', 'code');
  await expect.poll(() => editorText(page, 2)).toBe('a = 1\na = 1');

  // H lists the shortcuts.
  await select(page, 1);
  await page.keyboard.press('h');
  const shortcuts = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await expect(shortcuts.getByRole('row', { name: /Shift\+M Merge with the cell below/ })).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(shortcuts).toBeHidden();

  // 0,0 asks to restart the kernel; one 0 followed by something else does not.
  await select(page, 1);
  await page.keyboard.press('0');
  await page.keyboard.press('j');
  await expect(page.getByRole('dialog', { name: 'Restart the kernel?' })).toHaveCount(0);
  await select(page, 1);
  await page.keyboard.press('0');
  await page.keyboard.press('0');
  const restart = page.getByRole('dialog', { name: 'Restart the kernel?' });
  await expect(restart).toBeVisible();
  await restart.getByRole('button', { name: 'Cancel' }).click();

  // Ctrl+S saves a named checkpoint, not the browser's "Save page as".
  await select(page, 1);
  await page.keyboard.press('Control+s');
  await expect(page.getByRole('status').filter({ hasText: /Saved checkpoint “Checkpoint / })).toBeVisible();

  // Ctrl+Shift+P: the palette finds any action by name and runs it.
  await page.keyboard.press('Control+Shift+P');
  const palette = page.getByRole('dialog', { name: 'Command palette' });
  await expect(palette).toBeVisible();
  await palette.getByRole('combobox', { name: 'Command' }).fill('insert cell below');
  await page.keyboard.press('Enter');
  await expect(palette).toBeHidden();
  await expect(page.locator('section.cell')).toHaveCount(4);
  await page.keyboard.press('Control+Shift+P');
  await palette.getByRole('combobox', { name: 'Command' }).fill('history');
  await page.keyboard.press('Enter');
  const history = page.getByRole('dialog', { name: 'History' });
  await expect(history.getByText(/^Checkpoint /)).toBeVisible();
  await user.context.close();
});

test('cells copied in one notebook paste into another, outputs and all', async ({ browser }) => {
  const user = await soloUser(browser);
  const { page } = user;
  const from = await user.notebook('From', [
    { cell_type: 'markdown', source: '# Shared setup' },
    { cell_type: 'code', source: 'import json\nconfig = {"seed": 7}' },
  ]);
  const to = await user.notebook('To', [{ cell_type: 'code', source: 'print("target")' }]);
  // Its first cell is markdown: wait for the code cell's editor instead.
  await page.goto(from);
  await expect(cell(page, 2).locator('.view-lines')).toBeVisible({ timeout: 30_000 });
  await select(page, 2);
  await page.keyboard.press('c');
  await openNotebook(page, to);
  await select(page, 1);
  await page.keyboard.press('v');
  await expect(page.locator('section.cell')).toHaveCount(2);
  await expect.poll(() => editorText(page, 2)).toBe('import json\nconfig = {"seed": 7}');
  // The paste is part of the shared document: it is there after a reload.
  await page.reload();
  await expect(cell(page, 2)).toContainText('config = {"seed": 7}');
  expect((await sources(page)).length).toBe(2);
  await user.context.close();
});

test('I, I interrupts the running cell', async ({ browser }) => {
  test.setTimeout(180_000);
  const user = await soloUser(browser);
  const { page } = user;
  const url = await user.notebook('Interrupt', [
    { cell_type: 'code', source: 'import time\ntime.sleep(600)' },
  ]);
  await openNotebook(page, url);
  await page.getByRole('button', { name: 'Run cell 1' }).click();
  await expect(
    cell(page, 1)
      .getByRole('status')
      .filter({ hasText: /^Running/ }),
  ).toBeVisible({ timeout: 120_000 });
  await select(page, 1);
  await page.keyboard.press('i');
  await page.keyboard.press('i');
  await expect(page.getByRole('region', { name: 'Output of cell 1' })).toContainText('KeyboardInterrupt', {
    timeout: 30_000,
  });
  await user.context.close();
});
