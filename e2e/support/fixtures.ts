import { expect, type Page } from '@playwright/test';

/** The base URL global-setup started the web app on. */
export function appUrl(pathname: string): string {
  const base = process.env.KILN_E2E_BASE_URL;
  if (!base) throw new Error('KILN_E2E_BASE_URL is not set: global setup did not run');
  return new URL(pathname, base).toString();
}

export function uniqueEmail(name: string): string {
  return `${name}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.test`;
}

export async function signUp(
  page: Page,
  user: { name: string; email: string; password: string },
): Promise<void> {
  await page.goto(appUrl('/sign-up'));
  await page.getByLabel('Name').fill(user.name);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page).toHaveURL(/\/w\//);
}

/** Calls a tRPC mutation from inside the page, with the page's cookies and CSRF token, as its UI would. */
export async function callMutation(
  page: Page,
  procedure: string,
  input: unknown,
): Promise<{ status: number; body: unknown }> {
  return page.evaluate(
    async ({ procedure, input }) => {
      const me = await fetch('/api/trpc/auth.me').then((r) => r.json());
      const csrf = me?.result?.data?.json?.csrfToken ?? '';
      const response = await fetch(`/api/trpc/${procedure}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-kiln-csrf': csrf },
        body: JSON.stringify({ json: input }),
      });
      return { status: response.status, body: await response.json() };
    },
    { procedure, input },
  );
}

/** Calls a tRPC query from inside the page with the page's cookies. */
export async function callQuery(
  page: Page,
  procedure: string,
  input: unknown,
): Promise<{ status: number; body: unknown }> {
  return page.evaluate(
    async ({ procedure, input }) => {
      const query =
        input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify({ json: input }))}`;
      const response = await fetch(`/api/trpc/${procedure}${query}`);
      return { status: response.status, body: await response.json() };
    },
    { procedure, input },
  );
}
