import { expect, test } from '@playwright/test';
import { appUrl, signUp, uniqueEmail } from '../support/fixtures.ts';

// Issue 9: `/sign-in?next=/%09/127.0.0.1:9911/tab` sent a person who signed in to another origin
// (browsers drop the tab, leaving the protocol-relative `//127.0.0.1:9911/tab`); `%0A` and `%09%5C` too.
// In real Chromium, each lands on Kiln itself after signing in.
test('signing in with a crafted ?next= never leaves Kiln', async ({ browser }) => {
  const user = { name: 'Redirect Probe', email: uniqueEmail('next'), password: 'a long enough password' };
  const setup = await browser.newContext();
  await signUp(await setup.newPage(), user);
  await setup.close();
  const origin = new URL(appUrl('/')).origin;
  for (const next of [
    '/%09/127.0.0.1:9911/tab',
    '/%0A/127.0.0.1:9911/',
    '/%09%5C127.0.0.1:9911/',
    '/%5C%5Cevil.test',
  ]) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(appUrl(`/sign-in?next=${next}`));
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    // Signed in, on one of Kiln's own pages (the fallback is the home page, which opens a workspace).
    await expect(page).toHaveURL(/\/w\//);
    expect(new URL(page.url()).origin, next).toBe(origin);
    await context.close();
  }
});
