import { expect, type Page, test } from '@playwright/test';
import { cell, openNotebook, setSource } from '../support/notebook.ts';
import { createTeam } from '../support/team.ts';

// Each deploy starts a real runsc replica for its smoke test.
test.setTimeout(300_000);

async function deploy(
  page: Page,
  options: { sample: string; endpoint?: string; label?: string; isPublic?: boolean },
) {
  await cell(page, 1).getByRole('button', { name: 'Deploy cell 1 as endpoint' }).click();
  const dialog = page.getByRole('dialog', { name: 'Deploy as endpoint' });
  await expect(dialog.getByRole('list', { name: 'Imports' })).toContainText('import math');
  if (options.endpoint)
    await dialog.getByLabel('Endpoint').selectOption({ label: `${options.endpoint} (new version)` });
  if (options.label) await dialog.getByRole('textbox', { name: 'Label' }).fill(options.label);
  if (options.isPublic) await dialog.getByRole('checkbox', { name: /Public/ }).check();
  await dialog.getByRole('textbox', { name: 'Sample input (smoke test)' }).fill(options.sample);
  await dialog.getByRole('button', { name: 'Deploy', exact: true }).click();
  return dialog;
}

test('a cell deployed as an endpoint answers fetch, logs the call with its cost, survives a broken deploy and rolls back', async ({
  browser,
  baseURL,
}) => {
  const team = await createTeam(browser);
  const page = team.bob.page;
  const call = async (r: number) => {
    const response = await fetch(new URL(`/e/${team.slug}/area`, baseURL), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ r }),
    });
    return {
      status: response.status,
      id: response.headers.get('x-kiln-request-id'),
      body: await response.json(),
    };
  };

  await openNotebook(page, team.notebookUrl);
  await setSource(page, 1, 'import math\n\ndef area(r):\n    return {"area": round(math.pi * r * r, 2)}');
  let dialog = await deploy(page, { sample: '{"r": 1}', label: 'area', isPublic: true });
  const live = dialog.getByRole('status').filter({ hasText: 'is live' });
  await expect(live).toContainText('Version 1 is live', { timeout: 180_000 });
  await expect(live).toContainText('{"area":3.14}');

  const first = await call(2);
  expect(first).toMatchObject({ status: 200, body: { area: 12.57 } });

  await dialog.getByRole('link', { name: 'Open the endpoint' }).click();
  const logged = page
    .getByRole('table', { name: 'Recent requests' })
    .getByRole('row')
    .filter({ hasText: first.id ?? '?' });
  await expect(logged).toContainText('POST');
  await expect(logged).toContainText('200');
  // A call of a few milliseconds on 1 core and 2 GiB costs a fraction of a micro-dollar, never nothing.
  await expect(logged).toContainText(/\$\d\.\de-\d|\$0\.0*[1-9]/);

  // A version whose smoke test raises stays out of service; version 1 keeps answering.
  await openNotebook(page, team.notebookUrl);
  await setSource(page, 1, 'import math\n\ndef area(r):\n    return {"area": math.pi * r * r / 0}');
  dialog = await deploy(page, { sample: '{"r": 1}', endpoint: 'area' });
  const failed = dialog.getByRole('alert').filter({ hasText: 'Smoke test failed' });
  await expect(failed).toContainText('version 2 is not live', { timeout: 180_000 });
  await expect(failed).toContainText('ZeroDivisionError: float division by zero');
  expect((await call(2)).body).toEqual({ area: 12.57 });

  // A working version 3 goes live; rolling back brings version 1 back with one click.
  await dialog.getByRole('button', { name: 'Close' }).click();
  await setSource(page, 1, 'import math\n\ndef area(r):\n    return {"area": math.floor(math.pi * r * r)}');
  dialog = await deploy(page, { sample: '{"r": 1}', endpoint: 'area' });
  await expect(dialog.getByRole('status').filter({ hasText: 'is live' })).toContainText('Version 3 is live', {
    timeout: 180_000,
  });
  expect((await call(2)).body).toEqual({ area: 12 });
  await dialog.getByRole('link', { name: 'Open the endpoint' }).click();
  await page.getByRole('button', { name: 'Roll back to version 1' }).click();
  // The live badge itself: the row's "Diff with live" button also says "live" before the rollback.
  await expect(page.getByRole('row', { name: 'Version 1' }).getByText('live', { exact: true })).toBeVisible();
  // Enabled again once the rollback request has returned.
  await expect(page.getByRole('button', { name: 'Roll back to version 3' })).toBeEnabled();
  expect((await call(2)).body).toEqual({ area: 12.57 });
  await team.close();
});

test('an editor schedules an endpoint every minute with JSON arguments and sees the result in its run history', async ({
  browser,
}) => {
  const team = await createTeam(browser);
  const page = team.bob.page;
  await openNotebook(page, team.notebookUrl);
  await setSource(page, 1, 'import math\n\ndef area(r):\n    return {"area": round(math.pi * r * r, 2)}');
  const dialog = await deploy(page, { sample: '{"r": 1}', label: 'nightly-area' });
  await expect(dialog.getByRole('status').filter({ hasText: 'is live' })).toContainText('Version 1 is live', {
    timeout: 180_000,
  });
  await dialog.getByRole('link', { name: 'Open the endpoint' }).click();

  const section = page.getByRole('region', { name: 'Schedules' });
  await expect(section).toContainText('No schedules.');
  await section.getByRole('button', { name: 'New schedule' }).click();
  const form = section.getByRole('form', { name: 'New schedule' });
  await form.getByRole('textbox', { name: 'Cron expression' }).fill('* * * * *');
  await form.getByRole('textbox', { name: 'Time zone' }).fill('UTC');
  const args = form.getByRole('textbox', { name: 'Arguments (JSON)' });
  // Text that is not JSON is caught before sending; JSON that is not an object, by the server.
  await args.fill('{"r": 2');
  await form.getByRole('button', { name: 'Create schedule' }).click();
  await expect(form.getByRole('alert')).toContainText('Arguments are not valid JSON');
  await args.fill('[2]');
  await form.getByRole('button', { name: 'Create schedule' }).click();
  await expect(form.getByRole('alert')).toContainText('Arguments are a JSON object of keyword arguments');
  await form.getByRole('textbox', { name: 'Cron expression' }).fill('* * * *');
  await args.fill('{"r": 2}');
  await form.getByRole('button', { name: 'Create schedule' }).click();
  await expect(form.getByRole('alert')).toContainText('A cron expression has five fields');
  await form.getByRole('textbox', { name: 'Cron expression' }).fill('* * * * *');
  await form.getByRole('button', { name: 'Create schedule' }).click();
  await expect(section).toContainText('Active: cron * * * * * (UTC) with {"r":2}');

  await section.getByRole('button', { name: 'Runs' }).click();
  // A tick comes within a minute; the private endpoint needs no token for its own schedule.
  const done = section
    .getByRole('table', { name: 'Scheduled runs' })
    .getByRole('row')
    .filter({ hasText: 'succeeded' })
    .first();
  await expect(done).toBeVisible({ timeout: 150_000 });
  await expect(done).toContainText('{"area": 12.57}');
  await expect(done).toContainText(/\$\d\.\de-\d|\$0\.0*[1-9]/);
  // The call is in the request log like an HTTP one, marked as the schedule's.
  await expect(page.getByRole('table', { name: 'Recent requests' }).getByRole('row').nth(1)).toContainText(
    'SCHEDULE',
  );

  // The arguments are edited on the page: a refused edit keeps the schedule as it was, a saved one is what
  // the next tick calls with.
  const editButton = section.getByRole('button', { name: 'Edit schedule cron * * * * * (UTC)' });
  await editButton.click();
  let edit = section.getByRole('form', { name: 'Edit schedule cron * * * * * (UTC)' });
  const editArgs = () => edit.getByRole('textbox', { name: 'Arguments (JSON)' });
  await expect(editArgs()).toHaveValue('{"r":2}');
  await editArgs().fill('[3]');
  await edit.getByRole('button', { name: 'Save schedule' }).click();
  await expect(edit.getByRole('alert')).toContainText('Arguments are a JSON object of keyword arguments');
  await page.reload();
  await expect(section).toContainText('Active: cron * * * * * (UTC) with {"r":2}');
  await editButton.click();
  edit = section.getByRole('form', { name: 'Edit schedule cron * * * * * (UTC)' });
  await editArgs().fill('{"r": 3}');
  await edit.getByRole('button', { name: 'Save schedule' }).click();
  await expect(edit).toHaveCount(0);
  await expect(section).toContainText('Active: cron * * * * * (UTC) with {"r":3}');
  await page.reload();
  await expect(section).toContainText('Active: cron * * * * * (UTC) with {"r":3}');
  await section.getByRole('button', { name: 'Runs' }).click();
  await expect(
    section
      .getByRole('table', { name: 'Scheduled runs' })
      .getByRole('row')
      .filter({ hasText: '{"area": 28.27}' })
      .first(),
  ).toContainText('succeeded', { timeout: 150_000 });

  await section.getByRole('button', { name: 'Delete schedule cron * * * * * (UTC)' }).click();
  await expect(section).toContainText('No schedules.');
  await team.close();
});

test("the deploy dialog picks each replica's machine with the notebook's picker: price per hour, what starts now and why not", async ({
  browser,
}) => {
  const team = await createTeam(browser);
  const page = team.bob.page;
  await openNotebook(page, team.notebookUrl);
  await setSource(page, 1, 'import math\n\ndef area(r):\n    return {"area": round(math.pi * r * r, 2)}');
  const openDialog = async () => {
    await cell(page, 1).getByRole('button', { name: 'Deploy cell 1 as endpoint' }).click();
    const opened = page.getByRole('dialog', { name: 'Deploy as endpoint' });
    // The notebook's machine, image, secrets and volumes have loaded as the starting choice.
    await expect(opened.getByRole('region', { name: 'Runs with' })).toBeVisible();
    return opened;
  };
  let dialog = await openDialog();
  let machine = dialog.getByRole('region', { name: 'Machine' });
  const none = () => machine.getByLabel('GPU').getByRole('option', { name: /None \(CPU only\)/ });
  await expect(none()).toHaveText(/ · \$\d+\.\d\d\/h · starts now$/);
  // This cluster has no GPU: each GPU type is listed with its price but cannot be chosen.
  const t4 = machine.getByLabel('GPU').getByRole('option', { name: /^T4 / });
  await expect(t4).toHaveText(/ · \$\d+\.\d\d\/h · unavailable$/);
  await expect(t4).toBeDisabled();
  const price = async () => Number((await none().textContent())?.match(/\$(\d+\.\d\d)\/h/)?.[1]);
  const before = await price();
  // Prices follow the CPU and memory typed.
  await machine.getByRole('spinbutton', { name: 'CPU cores' }).fill('4');
  await expect(machine).toContainText('Prices at 4 CPU');
  expect(await price()).toBeGreaterThan(before);
  // More memory than the plan or any machine offers: unavailable, and the picker says why.
  await machine.getByRole('spinbutton', { name: 'Memory (GiB)' }).fill('4096');
  await expect(none()).toHaveText(/unavailable$/);
  await expect(machine.getByTestId('machine-verdict')).toContainText('Not available: ');
  await machine.getByRole('spinbutton', { name: 'CPU cores' }).fill('0.5');
  await machine.getByRole('spinbutton', { name: 'Memory (GiB)' }).fill('0.5');
  await expect(none()).toHaveText(/starts now$/);
  await expect(machine.getByTestId('machine-verdict')).toHaveCount(0);
  await dialog.getByRole('textbox', { name: 'Label' }).fill('picked');
  await dialog.getByRole('textbox', { name: 'Sample input (smoke test)' }).fill('{"r": 1}');
  await dialog.getByRole('button', { name: 'Deploy', exact: true }).click();
  await expect(dialog.getByRole('status').filter({ hasText: 'is live' })).toContainText('Version 1 is live', {
    timeout: 180_000,
  });
  await dialog.getByRole('button', { name: 'Close' }).click();

  // The next version starts from the machine the endpoint was deployed with.
  dialog = await openDialog();
  machine = dialog.getByRole('region', { name: 'Machine' });
  await dialog.getByLabel('Endpoint').selectOption({ label: 'picked (new version)' });
  await expect(machine.getByRole('spinbutton', { name: 'CPU cores' })).toHaveValue('0.5');
  await expect(machine.getByRole('spinbutton', { name: 'Memory (GiB)' })).toHaveValue('0.5');
  await expect(machine).toContainText('Prices at 0.5 CPU and 0.5 GB');
  await team.close();
});
