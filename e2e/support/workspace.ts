import { type Browser, type BrowserContext, expect, type Page } from '@playwright/test';
import { appUrl, callMutation, callQuery, signUp, uniqueEmail } from './fixtures.ts';

/** A signed-up user in a fresh browser context, in their personal workspace. */
export interface Solo {
  context: BrowserContext;
  page: Page;
  workspaceId: string;
  slug: string;
  /** Creates a notebook through the API; returns its page URL. */
  notebook(
    name: string,
    cells?: { cell_type: 'code' | 'markdown'; source: string; outputs?: Record<string, unknown>[] }[],
  ): Promise<string>;
}

function data<T>(body: unknown): T {
  return (body as { result: { data: { json: T } } }).result.data.json;
}

export async function soloUser(
  browser: Browser,
  options: { colorScheme?: 'light' | 'dark' } = {},
): Promise<Solo> {
  const context = await browser.newContext({ colorScheme: options.colorScheme ?? 'light' });
  const page = await context.newPage();
  await signUp(page, {
    name: 'Grace Hopper',
    email: uniqueEmail('grace'),
    password: 'a long enough password',
  });
  const workspaces = data<{ id: string; slug: string }[]>(
    (await callQuery(page, 'workspace.list', undefined)).body,
  );
  const workspace = workspaces[0];
  if (!workspace) throw new Error('sign-up created no workspace');
  return {
    context,
    page,
    workspaceId: workspace.id,
    slug: workspace.slug,
    async notebook(name, cells) {
      const content = JSON.stringify({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: {},
        cells: (cells ?? [{ cell_type: 'code', source: '' }]).map((cell) =>
          cell.cell_type === 'code'
            ? { ...cell, metadata: {}, outputs: cell.outputs ?? [], execution_count: null }
            : { ...cell, metadata: {} },
        ),
      });
      const created = await callMutation(page, 'notebook.importIpynb', {
        workspaceId: workspace.id,
        name,
        content,
      });
      expect(created.status).toBe(200);
      return appUrl(`/w/${workspace.slug}/n/${data<{ id: string }>(created.body).id}`);
    },
  };
}
