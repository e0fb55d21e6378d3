import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInvitation } from './invitations.ts';
import { createMailer } from './mailer.ts';
import { TEST_PASSWORD_HASH_OPTIONS } from './password.ts';
import { confirmSignUp, requestSignUp } from './sign-up-verification.ts';
import { type SmtpSink, startSmtpSink, unfoldedText } from './smtp-sink.ts';
import { signInWithPassword, signUp } from './users.ts';
import { createWorkspace } from './workspaces.ts';

// Sign-up that confirms the address first, through real SMTP: the caller learns nothing about the
// address; only its mailbox does.
let database: TestDatabase;
let smtp: SmtpSink;

beforeAll(async () => {
  database = await createTestDatabase();
  smtp = await startSmtpSink();
}, 60_000);
afterAll(async () => {
  smtp?.close();
  await database?.drop();
});

const password = 'a long enough password';

describe('sign-up with email confirmation', () => {
  it('answers a taken and a free address alike, and only the mailbox learns which it was', async () => {
    const db = database.db;
    const port = smtp.port;
    const mailer = createMailer({ smtpUrl: `smtp://127.0.0.1:${port}`, from: 'Kiln <kiln@kiln.test>' });
    const options = { mailer, appUrl: 'https://kiln.test', passwordHash: TEST_PASSWORD_HASH_OPTIONS };
    await signUp(db, { email: 'taken@kiln.test', password, name: 'Taken' }, options);

    const taken = await requestSignUp(
      db,
      { email: 'Taken@kiln.test', password: 'other password!', name: 'X', ip: '198.51.100.3' },
      options,
    );
    const free = await requestSignUp(
      db,
      { email: 'free@kiln.test', password, name: 'Free', ip: '198.51.100.3' },
      options,
    );
    expect(taken).toEqual(free);
    expect(await db.user.count({ where: { email: 'free@kiln.test' } })).toBe(0);
    // In verify mode the direct path is closed, with an answer that does not look at the address.
    await expect(
      signUp(db, { email: 'free@kiln.test', password, name: 'F' }, { ...options, mode: 'verify' }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });

    expect(smtp.messages).toHaveLength(2);
    const [toTaken, toFree] = smtp.messages.map(unfoldedText) as [string, string];
    expect(toTaken).toContain('already has one');
    expect(toTaken).not.toContain('/sign-up/confirm/');
    const token = /\/sign-up\/confirm\/([A-Za-z0-9_-]+)/.exec(toFree)?.[1] as string;
    expect(token).toBeTruthy();
    // The token is only in the mail: the database keeps its hash.
    expect(JSON.stringify(await db.pendingSignUp.findMany())).not.toContain(token);

    const created = await confirmSignUp(db, { token });
    expect(created.user).toMatchObject({ email: 'free@kiln.test', name: 'Free' });
    expect(
      (await signInWithPassword(db, { email: 'free@kiln.test', password, ip: '198.51.100.4' }, options)).id,
    ).toBe(created.user.id);
    // The taken account kept its password; the link works once.
    await signInWithPassword(db, { email: 'taken@kiln.test', password, ip: '198.51.100.4' }, options);
    await expect(confirmSignUp(db, { token })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    mailer.close();
  }, 60_000);

  it('refuses an expired link and keeps only the newest link of an address', async () => {
    const db = database.db;
    const sent: string[] = [];
    const mailer = { send: async (message: { text: string }) => void sent.push(message.text), close() {} };
    const options = { mailer, appUrl: 'https://kiln.test', passwordHash: TEST_PASSWORD_HASH_OPTIONS };
    const link = () => /\/sign-up\/confirm\/(\S+)/.exec(sent.at(-1) ?? '')?.[1] as string;
    await requestSignUp(db, { email: 'twice@kiln.test', password, name: 'T' }, options);
    const first = link();
    await requestSignUp(db, { email: 'twice@kiln.test', password, name: 'T' }, options);
    await expect(confirmSignUp(db, { token: first })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const later = new Date(Date.now() + 25 * 60 * 60 * 1000);
    await expect(confirmSignUp(db, { token: link() }, later)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await confirmSignUp(db, { token: link() })).user.email).toBe('twice@kiln.test');
  }, 60_000);

  it('joins the inviting workspace with the invited role when the sign-up came from its invitation', async () => {
    const db = database.db;
    const sent: string[] = [];
    const mailer = { send: async (message: { text: string }) => void sent.push(message.text), close() {} };
    const options = { mailer, appUrl: 'https://kiln.test', passwordHash: TEST_PASSWORD_HASH_OPTIONS };
    const link = () => /\/sign-up\/confirm\/(\S+)/.exec(sent.at(-1) ?? '')?.[1] as string;
    const owner = await signUp(db, { email: 'lab-owner@kiln.test', password, name: 'Owner' }, options);
    const lab = await createWorkspace(db, owner.user.id, { name: 'Verify Lab' });
    const invite = (email: string) =>
      createInvitation(db, { workspaceId: lab.id, invitedById: owner.user.id, email, role: 'EDITOR' });

    const invited = await invite('invitee@kiln.test');
    await requestSignUp(
      db,
      { email: 'Invitee@kiln.test', password, name: 'Invitee', invitation: invited.token },
      options,
    );
    const created = await confirmSignUp(db, { token: link() });
    expect(created.joined).toEqual({ workspaceId: lab.id, slug: lab.slug });
    const membership = await db.membership.findUnique({
      where: { workspaceId_userId: { workspaceId: lab.id, userId: created.user.id } },
    });
    expect(membership?.role).toBe('EDITOR');
    expect((await db.invitation.findUnique({ where: { id: invited.id } }))?.acceptedAt).not.toBeNull();

    // Another address's invitation link lets nobody in: the account is made, the workspace is not joined.
    const forSomeoneElse = await invite('someone-else@kiln.test');
    await requestSignUp(
      db,
      { email: 'stranger@kiln.test', password, name: 'Stranger', invitation: forSomeoneElse.token },
      options,
    );
    const stranger = await confirmSignUp(db, { token: link() });
    expect(stranger.joined).toBeNull();
    expect(await db.membership.count({ where: { workspaceId: lab.id, userId: stranger.user.id } })).toBe(0);
    expect((await db.invitation.findUnique({ where: { id: forSomeoneElse.id } }))?.acceptedAt).toBeNull();
  }, 60_000);
});
