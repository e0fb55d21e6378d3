import { expect, test } from '@playwright/test';
import { appUrl } from '../support/fixtures.ts';
import { createTeam } from '../support/team.ts';

// Issue 9: files a removed member wrote to /workspace stay. Kiln runs none of them as startup files
// (planted-startup.int.test.ts), and the owner removing someone is told what may be left behind.
test('removing a member says what they may have left on /workspace, then takes their access', async ({
  browser,
}) => {
  const team = await createTeam(browser, 'EDITOR');
  const { alice, bob } = team;
  await alice.page.goto(appUrl(`/w/${team.slug}/members`));
  await alice.page.getByRole('button', { name: `Remove ${bob.email}` }).click();
  const dialog = alice.page.getByRole('dialog', { name: 'Remove member?' });
  await expect(dialog).toContainText('Files they wrote to the shared /workspace volume stay after they go');
  await expect(dialog).toContainText('does not run shell profiles or Python startup files from /workspace');
  await expect(dialog).toContainText('review the scripts, .py modules and notebooks they changed');
  await dialog.getByRole('button', { name: 'Remove member' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(alice.page.getByRole('main')).not.toContainText(bob.email);
  // Bob is out: the workspace (or, if his page loaded first, its notebook) is no longer his to open.
  await bob.page.goto(team.notebookUrl);
  await expect(
    bob.page.getByRole('heading', { name: /^(Workspace not found|Notebook not available)$/ }),
  ).toBeVisible();
  await team.close();
});
