import { expect, type Page, test } from '@playwright/test';
import { appUrl, callMutation, callQuery, signUp, uniqueEmail } from '../support/fixtures.ts';
import { openNotebook, output } from '../support/notebook.ts';

// Issue 9: a terminal and a notebook's live (Yjs) socket authenticate once, at the upgrade. Ending the
// session that opened them (here: a password change from another browser) must close them on the
// server, so a stolen or forgotten session stops editing and running commands at once. The sockets
// below are opened by hand in the page, so only the server can close them (the page's own UI would
// close its sockets itself when it notices the session ended).

interface Raw {
  out: string;
  yjsOpen: boolean;
  closes: Record<string, string>;
}

async function openRawSockets(page: Page, urls: { terminal: string; yjs: string }): Promise<void> {
  await page.evaluate(({ terminal, yjs }) => {
    const raw: Raw & { sockets: WebSocket[] } = { out: '', yjsOpen: false, closes: {}, sockets: [] };
    (window as unknown as { raw: typeof raw }).raw = raw;
    const shell = new WebSocket(terminal);
    let asked = false;
    shell.onmessage = (event) => {
      const [kind, data] = JSON.parse(String(event.data)) as [string, unknown];
      if (kind !== 'stdout') return;
      raw.out += String(data);
      // Typed once the shell shows its prompt (input sent before the shell runs would be lost).
      if (!asked && raw.out.includes('$ ')) {
        asked = true;
        shell.send(JSON.stringify(['stdin', 'echo raw-$((6*7))\r']));
      }
    };
    shell.onclose = (event) => {
      raw.closes.terminal = `${event.code} ${event.reason}`;
    };
    const doc = new WebSocket(yjs);
    doc.binaryType = 'arraybuffer';
    doc.onopen = () => {
      raw.yjsOpen = true;
    };
    doc.onclose = (event) => {
      raw.closes.yjs = `${event.code} ${event.reason}`;
    };
    raw.sockets.push(shell, doc);
  }, urls);
}

const raw = (page: Page) => page.evaluate(() => (window as unknown as { raw: Raw }).raw);

test('a password change closes the terminal and live notebook sockets of every other session', async ({
  browser,
}) => {
  test.setTimeout(300_000);
  const user = { name: 'Sock Holder', email: uniqueEmail('sockets'), password: 'a long enough password' };
  const left = await browser.newContext();
  const page = await left.newPage();
  await signUp(page, user);
  const [workspace] = (
    (await callQuery(page, 'workspace.list', undefined)).body as {
      result: { data: { json: { id: string; slug: string }[] } };
    }
  ).result.data.json;
  if (!workspace) throw new Error('sign-up created no workspace');
  const created = await callMutation(page, 'notebook.importIpynb', {
    workspaceId: workspace.id,
    name: 'Forgotten tab',
    content: JSON.stringify({
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {},
      cells: [
        { cell_type: 'code', source: 'print("ready")', metadata: {}, outputs: [], execution_count: null },
      ],
    }),
  });
  const notebookId = (created.body as { result: { data: { json: { id: string } } } }).result.data.json.id;

  // The page's own sockets tell where the notebook's live document and its kernel's terminal are.
  const urls: { terminal?: string; yjs?: string } = {};
  page.on('websocket', (socket) => {
    if (socket.url().includes('/terminals/')) urls.terminal = socket.url();
    if (socket.url().includes('/yjs/')) urls.yjs = socket.url();
  });
  await openNotebook(page, appUrl(`/w/${workspace.slug}/n/${notebookId}`));
  await page.getByRole('button', { name: 'Run cell 1' }).click();
  await expect(output(page, 1)).toContainText('ready', { timeout: 120_000 });
  await page.getByRole('button', { name: 'Terminal' }).click();
  await expect.poll(() => urls.terminal ?? '', { timeout: 60_000 }).toContain('kernel=');
  expect(urls.yjs).toContain(notebookId);

  await openRawSockets(page, { terminal: urls.terminal as string, yjs: urls.yjs as string });
  await expect.poll(async () => (await raw(page)).out, { timeout: 60_000 }).toContain('raw-42');
  await expect.poll(async () => (await raw(page)).yjsOpen).toBe(true);
  expect((await raw(page)).closes).toEqual({});

  // The same person changes the password in another browser: that session stays, the others end.
  const right = await browser.newContext();
  const other = await right.newPage();
  await other.goto(appUrl('/sign-in'));
  await other.getByLabel('Email').fill(user.email);
  await other.getByLabel('Password').fill(user.password);
  await other.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(other).toHaveURL(/\/w\//);
  const changed = await callMutation(other, 'account.changePassword', {
    currentPassword: user.password,
    newPassword: 'another long enough password',
  });
  expect(changed.status).toBe(200);

  // Closed by the server: the terminal says why, the document socket is told access changed.
  await expect
    .poll(async () => (await raw(page)).closes, { timeout: 30_000 })
    .toEqual({ terminal: '4000 access changed', yjs: '4000 access changed' });
  // And the page itself now says the session ended instead of editing on.
  await expect(page.getByRole('heading', { name: 'Your session ended' })).toBeVisible();
  await left.close();
  await right.close();
});
