import { expect, test } from '@playwright/test';
import { appUrl, signUp, uniqueEmail } from '../support/fixtures.ts';

// The nonce-based CSP must hold back what an attacker injects (inline script, a remote beacon)
// while every script of the app itself still runs: sign-up, workspace, and the notebook editor.
test('the app runs under its nonce CSP, and injected scripts and outside images are blocked', async ({
  page,
}) => {
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (event) =>
      seen.push(`${event.effectiveDirective} ${event.blockedURI}`),
    );
  });
  const response = await page.goto(appUrl('/sign-in'));
  const policy = response?.headers()['content-security-policy'] ?? '';
  const nonce = policy.match(/'nonce-([^']+)'/)?.[1] ?? '';
  expect(nonce).not.toBe('');
  expect(policy).toContain(`'strict-dynamic'`);
  // Next marked its own scripts with this response's nonce.
  const scripts = await page
    .locator('script[src]')
    .evaluateAll((nodes) => nodes.map((node) => (node as HTMLScriptElement).nonce));
  expect(scripts.length).toBeGreaterThan(0);
  expect(scripts.every((value) => value === nonce)).toBe(true);

  // The app works: React hydrated, the form signs up, the workspace and a notebook open.
  const user = { name: 'Csp Tester', email: uniqueEmail('csp'), password: 'a long enough password' };
  await signUp(page, user);
  await page.getByRole('button', { name: 'Create notebook' }).click();
  await page.getByLabel('Notebook name').fill('Under policy');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Under policy' })).toBeVisible();
  await page.waitForTimeout(1000);
  const violations = () =>
    page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);
  expect(await violations()).toEqual([]);

  // Markup an attacker gets into the page (the sanitiser's job, this is the second line) neither
  // runs its handlers nor loads from elsewhere.
  const ran = await page.evaluate(async () => {
    const box = document.createElement('div');
    box.innerHTML =
      '<img src="http://198.51.100.7/beacon.png" onerror="window.injectedRan = true">' +
      '<a id="js-link" href="javascript:window.injectedRan = true">x</a>';
    document.body.append(box);
    (document.getElementById('js-link') as HTMLAnchorElement).click();
    await new Promise((resolve) => setTimeout(resolve, 500));
    return Boolean((window as unknown as { injectedRan?: boolean }).injectedRan);
  });
  expect(ran).toBe(false);
  const blocked = await violations();
  expect(blocked).toContain('img-src http://198.51.100.7/beacon.png');
  expect(blocked.some((entry) => entry.startsWith('script-src-attr inline'))).toBe(true);
});
