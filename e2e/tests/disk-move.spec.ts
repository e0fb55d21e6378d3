import { randomUUID } from 'node:crypto';
import { createDb, type Db } from '@kiln/db';
import { expect, test } from '@playwright/test';
import { appUrl } from '../support/fixtures.ts';
import { soloUser } from '../support/workspace.ts';

// The e2e stack runs one gateway node, so a real move (node to node) cannot run here; its copy, switch
// and claim are covered by apps/web/src/server/disk-move*.int.test.ts with two nodes. What a user meets
// while someone else's move runs is tested here: the move's claim is the `DiskMove` row another web
// process's mover writes (the claim is how processes see each other's moves), written here directly.

let db: Db;
test.beforeAll(() => {
  const url = process.env.KILN_E2E_DATABASE_URL;
  if (!url) throw new Error('KILN_E2E_DATABASE_URL is set by the e2e global setup');
  db = createDb(url, { max: 2 });
});
test.afterAll(async () => {
  await db?.$disconnect();
});

test('the move dialog shows a move in progress, file changes are refused meanwhile, and the dialog sees it end', async ({
  browser,
}) => {
  const user = await soloUser(browser);
  const page = user.page;
  await page.goto(appUrl(`/w/${user.slug}`));
  await page.getByRole('tab', { name: 'Files' }).click();
  const files = page.getByRole('region', { name: 'Workspace files' });
  await expect(files.getByText('This folder is empty.')).toBeVisible();

  // No move yet: the dialog offers none in progress; with one node there is nowhere to move to.
  await files.getByRole('button', { name: 'Move /workspace to another node' }).click();
  let dialog = page.getByRole('dialog', { name: 'Move /workspace' });
  await expect(dialog.getByText('No other node is online.')).toBeVisible();
  await expect(dialog.getByTestId('move-in-progress')).toHaveCount(0);
  await expect(dialog.getByRole('button', { name: 'Move', exact: true })).toBeDisabled();
  await dialog.getByRole('button', { name: 'Cancel' }).click();

  // Grace (in another tab, another web process) started moving /workspace to node-b 90 s ago.
  const member = await db.membership.findFirstOrThrow({ where: { workspaceId: user.workspaceId } });
  const startedAt = new Date(Date.now() - 90_000);
  await db.diskMove.create({
    data: {
      diskId: user.workspaceId,
      workspaceId: user.workspaceId,
      workspaceDisk: true,
      toNodeId: 'node-b',
      holder: randomUUID(),
      startedById: member.userId,
      startedAt,
      expiresAt: new Date(Date.now() + 600_000),
    },
  });

  await files.getByRole('button', { name: 'Move /workspace to another node' }).click();
  dialog = page.getByRole('dialog', { name: 'Move /workspace' });
  const notice = dialog.getByTestId('move-in-progress');
  await expect(notice).toContainText('/workspace is being moved to node node-b, started by Grace Hopper at');
  await expect(notice).toContainText(/, \d+ min ago\./);
  await expect(notice).toContainText('changes to its files are refused');
  await expect(dialog.getByRole('button', { name: 'Move', exact: true })).toBeDisabled();
  await dialog.getByRole('button', { name: 'Cancel' }).click();

  // The file browser refuses a change while the move runs, saying why.
  await files.getByRole('button', { name: 'New folder' }).click();
  const prompt = page.getByRole('dialog', { name: 'New folder' });
  await prompt.getByLabel('Folder name').fill('results');
  await prompt.getByRole('button', { name: 'Create folder' }).click();
  await expect(prompt.getByRole('alert')).toContainText('This disk is being moved to another node');
  await prompt.getByRole('button', { name: 'Cancel' }).click();

  // The dialog, left open, notices when the move ends (its mover released the claim).
  await files.getByRole('button', { name: 'Move /workspace to another node' }).click();
  dialog = page.getByRole('dialog', { name: 'Move /workspace' });
  await expect(dialog.getByTestId('move-in-progress')).toBeVisible();
  await db.diskMove.delete({ where: { diskId: user.workspaceId } });
  await expect(dialog.getByTestId('move-in-progress')).toHaveCount(0, { timeout: 30_000 });
  await expect(dialog.getByText('No other node is online.')).toBeVisible();
  await user.context.close();
});
