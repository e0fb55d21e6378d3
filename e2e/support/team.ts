import { type Browser, type BrowserContext, expect, type Page } from '@playwright/test';
import { appUrl, callMutation, callQuery, signUp, uniqueEmail } from './fixtures.ts';

export interface Member {
  context: BrowserContext;
  page: Page;
  name: string;
  email: string;
}

export interface Team {
  alice: Member;
  bob: Member;
  workspaceId: string;
  slug: string;
  notebookId: string;
  notebookUrl: string;
  close(): Promise<void>;
}

async function member(browser: Browser, name: string): Promise<Member> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const email = uniqueEmail(name.split(' ')[0]?.toLowerCase() ?? 'user');
  await signUp(page, { name, email, password: 'a long enough password' });
  return { context, page, name, email };
}

function data<T>(body: unknown): T {
  return (body as { result: { data: { json: T } } }).result.data.json;
}

/** Alice owns a workspace with one notebook; Bob joined it through an invitation with `role`. */
export async function createTeam(browser: Browser, role: 'EDITOR' | 'VIEWER' = 'EDITOR'): Promise<Team> {
  const alice = await member(browser, 'Alice Owner');
  const bob = await member(browser, 'Bob Member');
  const workspaces = data<{ id: string; slug: string }[]>(
    (await callQuery(alice.page, 'workspace.list', undefined)).body,
  );
  const workspace = workspaces[0];
  if (!workspace) throw new Error('sign-up created no workspace');

  const notebook = await callMutation(alice.page, 'notebook.create', {
    workspaceId: workspace.id,
    name: 'Shared analysis',
  });
  expect(notebook.status).toBe(200);
  const notebookId = data<{ id: string }>(notebook.body).id;

  const invitation = await callMutation(alice.page, 'invitation.create', {
    workspaceId: workspace.id,
    email: bob.email,
    role,
  });
  expect(invitation.status).toBe(200);
  const token = data<{ url: string }>(invitation.body).url.split('/invite/')[1];
  const accepted = await callMutation(bob.page, 'invitation.accept', { token });
  expect(accepted.status).toBe(200);

  return {
    alice,
    bob,
    workspaceId: workspace.id,
    slug: workspace.slug,
    notebookId,
    notebookUrl: appUrl(`/w/${workspace.slug}/n/${notebookId}`),
    async close() {
      await alice.context.close();
      await bob.context.close();
    },
  };
}
