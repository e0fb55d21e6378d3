import { execFileSync } from 'node:child_process';
import { type Browser, expect, type Page, test } from '@playwright/test';
import { type SmtpSink, startSmtpSink, unfoldedText } from '../../packages/accounts/src/smtp-sink.ts';
import { appUrl, callMutation, signUp, uniqueEmail } from '../support/fixtures.ts';
import { ownStack, type WebStack } from '../support/processes.ts';

// Sign-up by invitation (KILN_SIGN_UP=invite) and by email confirmation (verify, through a real SMTP
// sink), each on a web server of its own over a fresh database: what a stranger, an existing user and
// an invited person see.

test.setTimeout(300_000);
const PASSWORD = 'a long enough password';

function data<T>(body: unknown): T {
  return (body as { result: { data: { json: T } } }).result.data.json;
}

/** Accounts (User rows) with this address in the database at `url`. */
function accounts(url: string, email: string): number {
  const out = execFileSync(
    'psql',
    [url, '-At', '-c', `SELECT count(*) FROM "User" WHERE email = '${email}'`],
    {
      encoding: 'utf8',
    },
  );
  return Number(out.trim());
}

/** The signed-in owner's new team workspace and an invitation link to it for `email` as an editor. */
async function inviteToTeam(owner: Page, email: string) {
  const created = await callMutation(owner, 'workspace.create', { name: 'Invite Lab' });
  expect(created.status).toBe(200);
  const workspace = data<{ id: string; slug: string }>(created.body);
  const invitation = await callMutation(owner, 'invitation.create', {
    workspaceId: workspace.id,
    email,
    role: 'EDITOR',
  });
  expect(invitation.status).toBe(200);
  return { workspace, link: data<{ url: string }>(invitation.body).url };
}

/** Fills the sign-up form (reached from `path`) and submits it. */
async function submitSignUp(page: Page, path: string, user: { name: string; email: string }) {
  await page.goto(appUrl(path));
  await page.getByLabel('Name').fill(user.name);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign up' }).click();
}

/** The invitee follows the link, chooses to sign up, and is sent on to the sign-up form. */
async function signUpFromInvitation(page: Page, link: string, user: { name: string; email: string }) {
  await page.goto(link);
  await expect(page.getByRole('heading', { name: 'Join Invite Lab' })).toBeVisible();
  await page.getByRole('main').getByRole('link', { name: 'Sign up', exact: true }).click();
  await expect(page).toHaveURL(/\/sign-up\?next=/);
  const path = new URL(page.url()).pathname + new URL(page.url()).search;
  await submitSignUp(page, path, user);
}

async function newPage(browser: Browser): Promise<Page> {
  return (await browser.newContext()).newPage();
}

test.describe('sign-up by invitation (KILN_SIGN_UP=invite)', () => {
  let database: WebStack['database'];
  ownStack(
    (stack) => {
      database = stack.database;
    },
    { gateway: false, webEnv: () => ({ KILN_SIGN_UP: 'invite' }) },
  );

  test('only an invited address gets an account, and it lands in the inviting workspace', async ({
    browser,
  }) => {
    // The instance's first account is open.
    const owner = await newPage(browser);
    const ownerEmail = uniqueEmail('owner');
    await signUp(owner, { name: 'Olga Owner', email: ownerEmail, password: PASSWORD });
    const invitedEmail = uniqueEmail('invited');
    const { workspace, link } = await inviteToTeam(owner, invitedEmail);

    // A stranger and someone re-using the owner's address get the same refusal: nothing tells them
    // whether an address has an account.
    const stranger = await newPage(browser);
    const strangerEmail = uniqueEmail('stranger');
    const refusal = (page: Page) => page.getByRole('main').getByRole('alert');
    await submitSignUp(stranger, '/sign-up', { name: 'Sam Stranger', email: strangerEmail });
    await expect(refusal(stranger)).toContainText('created from invitations');
    const strangerMessage = await refusal(stranger).textContent();
    await submitSignUp(stranger, '/sign-up', { name: 'Olga Again', email: ownerEmail });
    await expect(refusal(stranger)).toContainText('created from invitations');
    expect(await refusal(stranger).textContent()).toBe(strangerMessage);
    expect(strangerMessage).not.toMatch(/exists|already|taken/i);
    // The invitation link of someone else does not let the stranger in either.
    await signUpFromInvitation(stranger, link, { name: 'Sam Stranger', email: strangerEmail });
    await expect(refusal(stranger)).toContainText('created from invitations');
    await expect(stranger).toHaveURL(/\/sign-up/);
    expect(accounts(database.url, strangerEmail)).toBe(0);

    // The invited address signs up from its link and lands in the workspace that invited it, as an editor.
    const invitee = await newPage(browser);
    await signUpFromInvitation(invitee, link, { name: 'Ivy Invited', email: invitedEmail });
    await expect(invitee).toHaveURL(new RegExp(`/w/${workspace.slug}(?:[/?#]|$)`));
    await expect(invitee.getByRole('button', { name: 'Create notebook' })).toBeVisible();
    expect(accounts(database.url, invitedEmail)).toBe(1);
  });
});

test.describe('sign-up by email confirmation (KILN_SIGN_UP=verify)', () => {
  let database: WebStack['database'];
  let smtp: SmtpSink | undefined;
  ownStack(
    (stack) => {
      database = stack.database;
    },
    {
      gateway: false,
      webEnv: async () => {
        smtp = await startSmtpSink();
        return {
          KILN_SIGN_UP: 'verify',
          SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
          MAIL_FROM: 'Kiln <kiln@example.test>',
        };
      },
    },
  );
  test.afterAll(() => smtp?.close());

  /** The mails the sink got for `email`, soft line breaks joined. */
  const mailsTo = (email: string) =>
    (smtp?.messages ?? []).map(unfoldedText).filter((message) => message.includes(`To: ${email}`));
  const confirmLink = (mail: string | undefined) =>
    /\/sign-up\/confirm\/[A-Za-z0-9_-]+/.exec(mail ?? '')?.[0] ?? null;

  /** Waits for the confirmation mail to `email` and creates the account from its link. */
  async function confirmFromMail(page: Page, email: string) {
    await expect.poll(() => confirmLink(mailsTo(email).at(-1))).not.toBeNull();
    await page.goto(appUrl(confirmLink(mailsTo(email).at(-1)) as string));
    await page.getByRole('button', { name: 'Create my account' }).click();
  }

  test('sends a link, only the link creates the account, and an invited one lands in the inviting workspace', async ({
    browser,
  }) => {
    const owner = await newPage(browser);
    const ownerEmail = uniqueEmail('owner');
    await submitSignUp(owner, '/sign-up', { name: 'Olga Owner', email: ownerEmail });
    await expect(owner.getByRole('heading', { name: 'Check your email' })).toBeVisible();
    const checkEmail = await owner.getByRole('main').textContent();
    // Nothing exists until the link is opened: signing in with the new password fails.
    expect(accounts(database.url, ownerEmail)).toBe(0);
    await owner.goto(appUrl('/sign-in'));
    await owner.getByLabel('Email').fill(ownerEmail);
    await owner.getByLabel('Password').fill(PASSWORD);
    await owner.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(owner.getByRole('main').getByRole('alert')).toBeVisible();
    await expect(owner).toHaveURL(/\/sign-in/);

    await confirmFromMail(owner, ownerEmail);
    await expect(owner).toHaveURL(/\/w\/[^/]+$/);
    expect(accounts(database.url, ownerEmail)).toBe(1);
    // The link worked once.
    const used = await newPage(browser);
    await used.goto(appUrl(confirmLink(mailsTo(ownerEmail).at(-1)) as string));
    await used.getByRole('button', { name: 'Create my account' }).click();
    await expect(used.getByRole('main').getByRole('alert')).toContainText('not valid any more');

    // Signing up again with the taken address looks exactly like a free one; only its mailbox learns more.
    const again = await newPage(browser);
    await submitSignUp(again, '/sign-up', { name: 'Olga Owner', email: ownerEmail });
    await expect(again.getByRole('heading', { name: 'Check your email' })).toBeVisible();
    expect(await again.getByRole('main').textContent()).toBe(checkEmail);
    await expect.poll(() => mailsTo(ownerEmail).length).toBe(2);
    expect(mailsTo(ownerEmail).at(-1)).toContain('already has one');
    expect(confirmLink(mailsTo(ownerEmail).at(-1))).toBeNull();

    // An invited person confirms their address and lands in the workspace that invited them.
    const invitedEmail = uniqueEmail('invited');
    const { workspace, link } = await inviteToTeam(owner, invitedEmail);
    const invitee = await newPage(browser);
    await signUpFromInvitation(invitee, link, { name: 'Ivy Invited', email: invitedEmail });
    await expect(invitee.getByRole('heading', { name: 'Check your email' })).toBeVisible();
    expect(accounts(database.url, invitedEmail)).toBe(0);
    await confirmFromMail(invitee, invitedEmail);
    await expect(invitee).toHaveURL(new RegExp(`/w/${workspace.slug}(?:[/?#]|$)`));
    await expect(invitee.getByRole('button', { name: 'Create notebook' })).toBeVisible();
  });
});
