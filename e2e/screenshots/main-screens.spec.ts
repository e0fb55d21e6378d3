import { fileURLToPath } from 'node:url';
import { expect, type Page, test } from '@playwright/test';
import { appUrl, callMutation, signUp, uniqueEmail } from '../support/fixtures.ts';
import { cell, output } from '../support/notebook.ts';

const OUT = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

/** A viewport-sized PNG, after fonts and animations settle; the caret is hidden so shots repeat. */
async function shoot(page: Page, name: string): Promise<void> {
  await page.evaluate(() => document.fonts.ready);
  await page.waitForTimeout(500);
  await page.screenshot({ path: `${OUT}${name}.png`, animations: 'disabled', caret: 'hide' });
}

test('main screens', async ({ page, browser }) => {
  await page.goto(appUrl('/'));
  await expect(page.getByRole('heading', { name: /collaborative GPU notebooks/i })).toBeVisible();
  await shoot(page, 'landing');

  await signUp(page, { name: 'Ada Lovelace', email: uniqueEmail('ada'), password: 'a long enough password' });
  await page.getByRole('button', { name: 'Open the sample notebook' }).click();
  await expect(page).toHaveURL(/\/n\/[0-9a-f-]{36}$/);
  // Run the kernel cell so the notebook shows real output.
  await page.getByRole('button', { name: 'Run cell 3' }).click();
  await expect(output(page, 3)).not.toBeEmpty({ timeout: 180_000 });
  await expect(cell(page, 3).locator('.view-lines')).toBeVisible({ timeout: 60_000 });
  await shoot(page, 'notebook');

  await page.getByRole('button', { name: 'Terminal' }).click();
  const terminal = page.getByRole('region', { name: 'Terminal 1' });
  await terminal.locator('.xterm').click();
  await page.keyboard.type('python3 --version && ls /workspace\n');
  await expect(terminal.locator('.xterm-rows')).toContainText('Python', { timeout: 60_000 });
  await shoot(page, 'ide-terminal');

  await page.getByRole('toolbar').getByRole('button', { name: 'History' }).click();
  const history = page.getByRole('dialog', { name: 'History' });
  await expect(history).toBeVisible();
  await page.waitForTimeout(1000);
  await shoot(page, 'history');
  await page.keyboard.press('Escape');

  // Members: invite a second person so the list shows roles and a pending invitation.
  const slug = new URL(page.url()).pathname.split('/')[2] ?? '';
  const workspaces = await page.evaluate(() => fetch('/api/trpc/workspace.list').then((r) => r.json()));
  const workspaceId = workspaces.result.data.json[0].id as string;
  const grace = await browser.newContext();
  const gracePage = await grace.newPage();
  const graceEmail = uniqueEmail('grace');
  await signUp(gracePage, { name: 'Grace Hopper', email: graceEmail, password: 'a long enough password' });
  const invited = await callMutation(page, 'invitation.create', {
    workspaceId,
    email: graceEmail,
    role: 'EDITOR',
  });
  const token = (invited.body as { result: { data: { json: { url: string } } } }).result.data.json.url.split(
    '/invite/',
  )[1];
  await callMutation(gracePage, 'invitation.accept', { token });
  await callMutation(page, 'invitation.create', { workspaceId, email: uniqueEmail('linus'), role: 'VIEWER' });
  await grace.close();
  await page.goto(appUrl(`/w/${slug}/members`));
  await expect(page.getByText('Grace Hopper')).toBeVisible();
  await shoot(page, 'members');
});
