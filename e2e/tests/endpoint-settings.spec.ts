import { expect, test } from '@playwright/test';
import { appUrl, callMutation } from '../support/fixtures.ts';
import { cell, openNotebook, setSource } from '../support/notebook.ts';
import { createTeam } from '../support/team.ts';

// The second test deploys: its smoke test starts a real runsc replica.
test.setTimeout(300_000);

function data<T>(body: unknown): T {
  return (body as { result: { data: { json: T } } }).result.data.json;
}

test('an editor sets an endpoint’s scaling in a form: a bad value is named under its field and saves nothing, a good one is saved and audited', async ({
  browser,
}) => {
  const team = await createTeam(browser);
  const created = await callMutation(team.alice.page, 'endpoint.create', {
    workspaceId: team.workspaceId,
    label: 'scaled',
  });
  expect(created.status).toBe(200);
  const endpointId = data<{ id: string }>(created.body).id;
  const page = team.bob.page;
  await page.goto(appUrl(`/w/${team.slug}/endpoints/${endpointId}`));
  const form = page.getByRole('form', { name: 'Endpoint settings' });
  const field = (name: string) => form.getByRole('spinbutton', { name, exact: true });
  await expect(field('Minimum replicas')).toHaveValue('0');
  await expect(field('Maximum replicas')).toHaveValue('4');

  // More replicas kept than allowed at most: refused, the message sits under the minimum.
  await field('Minimum replicas').fill('5');
  await field('Maximum replicas').fill('2');
  await field('Timeout (s)').fill('30');
  await form.getByRole('button', { name: 'Save settings' }).click();
  await expect(field('Minimum replicas')).toHaveAttribute('aria-invalid', 'true');
  await expect(form).toContainText('Minimum replicas cannot be above maximum replicas');
  // What was typed stays; nothing was saved.
  await expect(field('Timeout (s)')).toHaveValue('30');
  await expect(page.getByText(/Timeout 150 s; replicas 0–4/)).toBeVisible();

  // Out of range: the server's range, under the field it is about.
  await field('Maximum replicas').fill('6');
  await field('Timeout (s)').fill('99999');
  await form.getByRole('button', { name: 'Save settings' }).click();
  await expect(form).toContainText('Timeout (seconds) must be a whole number from 1 to 3600');
  await expect(field('Timeout (s)')).toHaveAttribute('aria-invalid', 'true');

  await field('Timeout (s)').fill('30');
  await field('Scale-down window (s)').fill('120');
  await form.getByRole('button', { name: 'Save settings' }).click();
  await expect(form.getByRole('status')).toContainText('Saved');
  await expect(page.getByText(/Timeout 30 s; replicas 5–6, scale down after 120 s idle/)).toBeVisible();
  await page.reload();
  await expect(field('Minimum replicas')).toHaveValue('5');
  await expect(field('Scale-down window (s)')).toHaveValue('120');

  // The owner sees who changed it in the audit log.
  await team.alice.page.goto(appUrl(`/w/${team.slug}/audit`));
  const entry = team.alice.page
    .getByRole('table', { name: 'Audit log' })
    .getByRole('row')
    .filter({ hasText: 'endpoint.settings_changed' });
  await expect(entry).toContainText('Bob Member');
  await expect(entry).toContainText('scaled');
  await team.close();
});

test('the deploy dialog starts from the notebook’s secrets and volumes, and the replica runs with them', async ({
  browser,
  baseURL,
}) => {
  const team = await createTeam(browser);
  const alice = team.alice.page;
  const secret = await callMutation(alice, 'secret.create', {
    workspaceId: team.workspaceId,
    name: 'e2e-endpoint-key',
    values: { API_KEY: 'k-0123456789' },
  });
  expect(secret.status).toBe(200);
  const volume = await callMutation(alice, 'volume.create', { workspaceId: team.workspaceId, name: 'notes' });
  expect(volume.status).toBe(200);
  const notebook = { workspaceId: team.workspaceId, notebookId: team.notebookId };
  const secretId = data<{ id: string }>(secret.body).id;
  const volumeId = data<{ id: string }>(volume.body).id;
  expect(
    (await callMutation(alice, 'secret.setForNotebook', { ...notebook, secretIds: [secretId] })).status,
  ).toBe(200);
  expect(
    (
      await callMutation(alice, 'volume.setForNotebook', {
        ...notebook,
        volumes: [{ volumeId, readOnly: false }],
      })
    ).status,
  ).toBe(200);

  const page = team.bob.page;
  await openNotebook(page, team.notebookUrl);
  // One body line: the editor indents new lines itself.
  await setSource(
    page,
    1,
    'import os, pathlib\n\nNOTE = pathlib.Path("/vol/notes/n.txt")\n\ndef probe():\n    return {"key_len": len(os.environ["API_KEY"]), "wrote": NOTE.write_text("kept"), "note": NOTE.read_text()}',
  );
  // Capture reads the server's copy of the notebook: open the dialog once the edit is stored.
  await expect(page.getByRole('status').filter({ hasText: /^Saved$/ })).toBeVisible();
  await cell(page, 1).getByRole('button', { name: 'Deploy cell 1 as endpoint' }).click();
  const dialog = page.getByRole('dialog', { name: 'Deploy as endpoint' });
  await expect(dialog.getByRole('list', { name: 'Imports' })).toContainText('import os, pathlib');
  const runsWith = dialog.getByRole('region', { name: 'Runs with' });
  await expect(runsWith.getByRole('checkbox', { name: /e2e-endpoint-key/ })).toBeChecked();
  await expect(runsWith.getByRole('checkbox', { name: '/vol/notes' })).toBeChecked();
  await expect(runsWith.getByRole('combobox', { name: 'Image' })).toHaveValue('base');
  await dialog.getByRole('textbox', { name: 'Label' }).fill('probe');
  await dialog.getByRole('checkbox', { name: /Public/ }).check();
  await dialog.getByRole('textbox', { name: 'Sample input (smoke test)' }).fill('{}');
  await dialog.getByRole('button', { name: 'Deploy', exact: true }).click();
  const live = dialog.getByRole('status').filter({ hasText: 'is live' });
  await expect(live).toContainText('Version 1 is live', { timeout: 180_000 });
  // The secret's variable (its length, never its value) and the file the function wrote on the volume.
  await expect(live).toContainText('"key_len":12');
  await expect(live).toContainText('"note":"kept"');

  const response = await fetch(new URL(`/e/${team.slug}/probe`, baseURL), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  expect(await response.json()).toEqual({ key_len: 12, wrote: 4, note: 'kept' });
  await dialog.getByRole('link', { name: 'Open the endpoint' }).click();
  await expect(page.getByRole('row', { name: 'Version 1' })).toContainText(
    'base image · secrets e2e-endpoint-key · /vol/notes',
  );
  // The machine its replicas run on: the endpoint's default size, the live version's image.
  await expect(page.getByRole('region', { name: 'Machine', exact: true })).toContainText(
    '1 CPU · 2 GB · no GPU · base image',
  );
  await team.close();
});
