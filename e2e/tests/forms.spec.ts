import { expect, test } from '@playwright/test';
import { appUrl, callQuery, uniqueEmail } from '../support/fixtures.ts';

test('sign-up validates in the browser with the server rules and sends the values the server would keep', async ({
  page,
}) => {
  const calls: string[] = [];
  page.on('request', (request) => {
    if (request.url().includes('/api/trpc/auth.signUp')) calls.push(request.url());
  });
  await page.goto(appUrl('/sign-up'));
  const email = uniqueEmail('Ada');
  await page.getByLabel('Name').fill('  Ada Lovelace  ');
  await page.getByLabel('Email').fill('not an email');
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Sign up' }).click();
  // The API's own messages, shown at their fields, before any request.
  await expect(page.getByText('Enter a valid email address')).toBeVisible();
  await expect(page.getByText('Password must be at least 10 characters')).toBeVisible();
  await expect(page.getByLabel('Password')).toHaveAttribute('aria-invalid', 'true');
  expect(calls).toEqual([]);

  await page.getByLabel('Email').fill(`  ${email.toUpperCase()} `);
  await page.getByLabel('Password').fill('a long enough password');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page).toHaveURL(/\/w\//);
  const me = (await callQuery(page, 'auth.me', undefined)).body as {
    result: { data: { json: { user: { email: string; name: string } } } };
  };
  expect(me.result.data.json.user).toMatchObject({ email: email.toLowerCase(), name: 'Ada Lovelace' });
});
