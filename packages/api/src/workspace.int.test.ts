import type { TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTeam, insertUser, outcome, signedIn, withDatabase } from '../test/harness.ts';

let t: TestDatabase;
beforeAll(async () => {
  t = await withDatabase();
});
afterAll(async () => {
  await t?.drop();
});

describe('workspaces', () => {
  it('gives every new workspace its own address and shows it to members only', async () => {
    const user = await insertUser(t.db, 'creator');
    const browser = await signedIn(t.db, user.id);
    const first = await browser.api.workspace.create({ name: 'Deep Learning Lab' });
    const second = await browser.api.workspace.create({ name: 'Deep  Learning  Lab!' });
    expect(first.slug).toMatch(/^deep-learning-lab-[a-z0-9]{6}$/);
    expect(second.slug).toMatch(/^deep-learning-lab-[a-z0-9]{6}$/);
    expect(second.slug).not.toBe(first.slug);
    // An address cannot be chosen, so none can be probed by asking for it.
    await expect(
      browser.api.workspace.create({ name: 'Taken', slug: first.slug } as { name: string }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    const got = await browser.api.workspace.get({ slug: first.slug });
    expect(got).toMatchObject({ name: 'Deep Learning Lab', role: 'OWNER', memberCount: 1, personal: false });
    const stranger = await signedIn(t.db, (await insertUser(t.db, 'stranger')).id);
    expect(await outcome(stranger.api.workspace.get({ slug: first.slug }))).toBe('NOT_FOUND');
  });

  it('creating a workspace reveals nothing about other workspaces with the same name', async () => {
    // Someone's private workspace, and a prober who knows (or guesses) its name.
    const owner = await signedIn(t.db, (await insertUser(t.db, 'private-owner')).id);
    const prober = await signedIn(t.db, (await insertUser(t.db, 'name-prober')).id);
    const name = `Quiet Project ${Date.now().toString(36)}`;
    const base = name.toLowerCase().replaceAll(' ', '-');
    const hidden = await owner.api.workspace.create({ name });
    // The prober's creation succeeds exactly as it would for an unused name: same shape, an address
    // of the same form, never the bare name and never the private one.
    const probe = await prober.api.workspace.create({ name });
    const unused = await prober.api.workspace.create({ name: `${name} unused` });
    for (const created of [hidden, probe]) {
      expect(created.slug).toMatch(new RegExp(`^${base}-[a-z0-9]{6}$`));
      expect(created.name).toBe(name);
    }
    expect(unused.slug).toMatch(new RegExp(`^${base}-unused-[a-z0-9]{6}$`));
    expect(Object.keys(probe).sort()).toEqual(Object.keys(unused).sort());
    expect(probe.slug).not.toBe(hidden.slug);
    // Both are real, separate workspaces, each visible to its own owner only.
    expect((await owner.api.workspace.get({ slug: hidden.slug })).role).toBe('OWNER');
    expect((await prober.api.workspace.get({ slug: probe.slug })).role).toBe('OWNER');
    expect(await outcome(prober.api.workspace.get({ slug: hidden.slug }))).toBe('NOT_FOUND');
    expect((await prober.api.workspace.list()).map((w) => w.slug)).not.toContain(hidden.slug);
  }, 60_000);

  it('answers a slug that exists but is not yours exactly as one that does not exist', async () => {
    const owner = await signedIn(t.db, (await insertUser(t.db, 'slug-owner')).id);
    const { slug } = await owner.api.workspace.create({ name: 'Private Research' });
    const stranger = await signedIn(t.db, (await insertUser(t.db, 'slug-prober')).id);
    const answer = async (probe: string) => {
      try {
        await stranger.api.workspace.get({ slug: probe });
        return 'found';
      } catch (error) {
        const { code, message, cause } = error as { code: string; message: string; cause?: unknown };
        return { code, message, details: (cause as { details?: unknown } | undefined)?.details };
      }
    };
    const missing = await answer('no-such-workspace-here');
    expect(missing).toMatchObject({ code: 'NOT_FOUND', message: 'Workspace not found' });
    expect(await answer(slug)).toEqual(missing);
    expect(await answer(slug.toUpperCase())).toEqual(missing);
    expect(await answer('Not A Slug!')).toEqual(missing);
  }, 60_000);

  it('deleting a workspace needs its slug typed and removes its notebooks, members, invitations and tokens', async () => {
    const team = await createTeam(t.db);
    const workspaceId = team.workspace.id;
    const owner = team.browsers.owner.api;
    await expect(owner.workspace.delete({ workspaceId, confirm: 'wrong' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringContaining(team.workspace.slug),
    });
    expect(await t.db.notebook.count({ where: { workspaceId } })).toBe(1);
    await owner.workspace.delete({ workspaceId, confirm: team.workspace.slug });
    expect(await t.db.workspace.count({ where: { id: workspaceId } })).toBe(0);
    expect(await t.db.notebook.count({ where: { workspaceId } })).toBe(0);
    expect(await t.db.membership.count({ where: { workspaceId } })).toBe(0);
    expect(await t.db.invitation.count({ where: { workspaceId } })).toBe(0);
    expect(await t.db.apiToken.count({ where: { workspaceId } })).toBe(0);
    expect(await outcome(owner.notebook.list({ workspaceId }))).toBe('NOT_FOUND');
    // The audit trail survives the workspace.
    const entry = await t.db.auditLog.findFirst({
      where: { action: 'workspace.deleted', target: team.workspace.slug },
    });
    expect(entry?.actorId).toBe(team.users.owner.id);
  });

  it('a personal workspace cannot be deleted', async () => {
    const user = await insertUser(t.db, 'solo');
    const browser = await signedIn(t.db, user.id);
    const ws = await browser.api.workspace.create({ name: 'Mine' });
    await t.db.workspace.update({ where: { id: ws.id }, data: { personal: true } });
    expect(await outcome(browser.api.workspace.delete({ workspaceId: ws.id, confirm: ws.slug }))).toBe(
      'FORBIDDEN',
    );
  });
});

describe('members and owners', () => {
  it('tells the server whose access changed, so their open notebooks re-authenticate', async () => {
    const team = await createTeam(t.db);
    const workspaceId = team.workspace.id;
    const changes: { workspaceId: string; userId: string }[] = [];
    const record = {
      onAccessChanged: (change: { workspaceId: string; userId: string }) => changes.push(change),
    };
    team.browsers.owner.services = record;
    team.browsers.editor.services = record;
    await team.browsers.owner.api.member.updateRole({
      workspaceId,
      userId: team.users.target.id,
      role: 'VIEWER',
    });
    await team.browsers.owner.api.member.remove({ workspaceId, userId: team.users.viewer.id });
    await team.browsers.editor.api.member.leave({ workspaceId });
    // A refused change tells nobody.
    await outcome(team.browsers.editor.api.member.leave({ workspaceId }));
    expect(changes).toEqual([
      { workspaceId, userId: team.users.target.id },
      { workspaceId, userId: team.users.viewer.id },
      { workspaceId, userId: team.users.editor.id },
    ]);
  });

  it('the last owner cannot be demoted, removed or leave', async () => {
    const team = await createTeam(t.db);
    const workspaceId = team.workspace.id;
    const owner = team.browsers.owner.api;
    // Two owners: one may step down.
    await owner.member.updateRole({ workspaceId, userId: team.users.coOwner.id, role: 'ADMIN' });
    await expect(
      owner.member.updateRole({ workspaceId, userId: team.users.owner.id, role: 'ADMIN' }),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('at least one owner'),
    });
    expect(await outcome(owner.member.remove({ workspaceId, userId: team.users.owner.id }))).toBe('CONFLICT');
    expect(await outcome(owner.member.leave({ workspaceId }))).toBe('CONFLICT');
    const members = await owner.member.list({ workspaceId });
    expect(members.filter((m) => m.role === 'OWNER').map((m) => m.userId)).toEqual([team.users.owner.id]);
  });

  it('two owners demoting each other at once still leave one owner', async () => {
    const team = await createTeam(t.db);
    const workspaceId = team.workspace.id;
    const coOwner = await signedIn(t.db, team.users.coOwner.id);
    const results = await Promise.all([
      outcome(
        team.browsers.owner.api.member.updateRole({
          workspaceId,
          userId: team.users.coOwner.id,
          role: 'ADMIN',
        }),
      ),
      outcome(coOwner.api.member.updateRole({ workspaceId, userId: team.users.owner.id, role: 'ADMIN' })),
    ]);
    expect(results.sort()).toEqual(['CONFLICT', 'OK']);
    expect(await t.db.membership.count({ where: { workspaceId, role: 'OWNER' } })).toBe(1);
  });

  it('only owners grant or change the owner role; admins manage the rest', async () => {
    const team = await createTeam(t.db);
    const workspaceId = team.workspace.id;
    const admin = team.browsers.admin.api;
    expect(
      await outcome(admin.member.updateRole({ workspaceId, userId: team.users.target.id, role: 'OWNER' })),
    ).toBe('FORBIDDEN');
    expect(
      await outcome(admin.member.updateRole({ workspaceId, userId: team.users.coOwner.id, role: 'VIEWER' })),
    ).toBe('FORBIDDEN');
    expect(await outcome(admin.member.remove({ workspaceId, userId: team.users.coOwner.id }))).toBe(
      'FORBIDDEN',
    );
    expect(
      await outcome(admin.member.updateRole({ workspaceId, userId: team.users.target.id, role: 'ADMIN' })),
    ).toBe('OK');
    await admin.member.remove({ workspaceId, userId: team.users.target.id });
    expect((await admin.member.list({ workspaceId })).map((m) => m.userId)).not.toContain(
      team.users.target.id,
    );
    const target = await signedIn(t.db, team.users.target.id);
    expect(await outcome(target.api.notebook.list({ workspaceId }))).toBe('NOT_FOUND');
    const actions = (await admin.audit.list({ workspaceId })).items.map((item) => item.action);
    expect(actions).toEqual(expect.arrayContaining(['member.role_changed', 'member.removed']));
  });

  it('transfers ownership: the new owner is OWNER and the old one becomes ADMIN', async () => {
    const team = await createTeam(t.db);
    const workspaceId = team.workspace.id;
    await t.db.membership.deleteMany({ where: { workspaceId, userId: team.users.coOwner.id } });
    const owner = team.browsers.owner.api;
    expect(
      await outcome(owner.workspace.transferOwnership({ workspaceId, userId: team.users.outsider.id })),
    ).toBe('NOT_FOUND');
    await owner.workspace.transferOwnership({ workspaceId, userId: team.users.editor.id });
    const roles = Object.fromEntries(
      (await owner.member.list({ workspaceId })).map((m) => [m.userId, m.role]),
    );
    expect(roles[team.users.editor.id]).toBe('OWNER');
    expect(roles[team.users.owner.id]).toBe('ADMIN');
    expect(await outcome(owner.workspace.delete({ workspaceId, confirm: team.workspace.slug }))).toBe(
      'FORBIDDEN',
    );
    expect(
      await outcome(
        team.browsers.editor.api.member.updateRole({
          workspaceId,
          userId: team.users.owner.id,
          role: 'VIEWER',
        }),
      ),
    ).toBe('OK');
  });
});

describe('invitations', () => {
  it('invites by link, lets only the invited address accept, once, and records who accepted', async () => {
    const team = await createTeam(t.db);
    const workspaceId = team.workspace.id;
    const admin = team.browsers.admin.api;
    const created = await admin.invitation.create({
      workspaceId,
      email: 'New.Person@Example.com',
      role: 'EDITOR',
    });
    expect(created.emailed).toBe(false);
    expect(created.url).toMatch(/^http:\/\/kiln\.test\/invite\/[A-Za-z0-9_-]{43}$/);
    const token = created.url.split('/').at(-1) as string;
    expect(await t.db.invitation.count({ where: { tokenHash: token } })).toBe(0);

    const pending = await admin.invitation.list({ workspaceId });
    expect(pending.map((p) => p.email)).toContain('new.person@example.com');

    const anonymous = team.browsers.signedOut.api;
    const preview = await anonymous.invitation.preview({ token });
    expect(preview).toMatchObject({
      workspaceName: 'Team',
      role: 'EDITOR',
      invitedBy: 'admin',
      expired: false,
      accepted: false,
      forYou: null,
    });
    // Whoever holds the link does not learn who was invited.
    expect(preview.email).toBe('n•••@e•••.com');
    expect(JSON.stringify(preview)).not.toContain('new.person');
    expect(await outcome(anonymous.invitation.accept({ token }))).toBe('UNAUTHORIZED');

    // Someone else with the link is refused, and the link still works for the invitee.
    const other = await signedIn(t.db, (await insertUser(t.db, 'other-address')).id);
    expect((await other.api.invitation.preview({ token })).forYou).toBe(false);
    await expect(other.api.invitation.accept({ token })).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringContaining('n•••@e•••.com'),
    });
    // A member opening the link goes to the workspace without using it up.
    expect(await team.browsers.viewer.api.invitation.accept({ token })).toEqual({
      workspaceId,
      slug: team.workspace.slug,
    });
    expect((await team.browsers.viewer.api.workspace.get({ slug: team.workspace.slug })).role).toBe('VIEWER');
    expect((await anonymous.invitation.preview({ token })).accepted).toBe(false);

    const invitee = await t.db.user.create({
      data: { email: 'new.person@example.com', name: 'New Person' },
      select: { id: true },
    });
    const browser = await signedIn(t.db, invitee.id);
    expect((await browser.api.invitation.preview({ token })).forYou).toBe(true);
    expect(await browser.api.invitation.accept({ token })).toEqual({
      workspaceId,
      slug: team.workspace.slug,
    });
    expect((await browser.api.workspace.get({ slug: team.workspace.slug })).role).toBe('EDITOR');
    const entry = await t.db.auditLog.findFirstOrThrow({
      where: { workspaceId, action: 'invitation.accepted' },
    });
    expect(entry.actorId).toBe(invitee.id);
    expect(entry.metadata).toMatchObject({ invitedEmail: 'new.person@example.com' });

    // Single use: the invitee's second account (same address re-created) cannot use it again.
    await t.db.membership.deleteMany({ where: { workspaceId, userId: invitee.id } });
    await expect(browser.api.invitation.accept({ token })).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
      message: 'This invitation has already been used; ask for a new one.',
    });
    expect((await anonymous.invitation.preview({ token })).accepted).toBe(true);
    expect((await admin.invitation.list({ workspaceId })).map((p) => p.email)).not.toContain(
      'new.person@example.com',
    );
  });

  it('the invitee accepting the same link twice at once: exactly one accept counts', async () => {
    const team = await createTeam(t.db);
    const { email } = await t.db.invitation.findUniqueOrThrow({ where: { id: team.invitation.id } });
    const invitee = await t.db.user.create({ data: { email, name: 'Racer' }, select: { id: true } });
    const [browserA, browserB] = await Promise.all([signedIn(t.db, invitee.id), signedIn(t.db, invitee.id)]);
    const results = await Promise.all([
      outcome(browserA.api.invitation.accept({ token: team.invitation.token })),
      outcome(browserB.api.invitation.accept({ token: team.invitation.token })),
    ]);
    expect(results.sort()).toEqual(['OK', 'PRECONDITION_FAILED']);
    expect(
      await t.db.membership.count({ where: { workspaceId: team.workspace.id, userId: invitee.id } }),
    ).toBe(1);
  });

  it('expired and revoked invitations do not work; unknown tokens are NOT_FOUND', async () => {
    const team = await createTeam(t.db);
    const workspaceId = team.workspace.id;
    const user = await signedIn(t.db, (await insertUser(t.db, 'late')).id);
    await t.db.invitation.update({
      where: { id: team.invitation.id },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    expect((await user.api.invitation.preview({ token: team.invitation.token })).expired).toBe(true);
    await expect(user.api.invitation.accept({ token: team.invitation.token })).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
      message: 'This invitation has expired; ask for a new one.',
    });
    expect(await outcome(user.api.workspace.get({ slug: team.workspace.slug }))).toBe('NOT_FOUND');

    const fresh = await team.browsers.owner.api.invitation.create({
      workspaceId,
      email: 'r@example.com',
      role: 'VIEWER',
    });
    const token = fresh.url.split('/').at(-1) as string;
    await team.browsers.owner.api.invitation.revoke({ workspaceId, invitationId: fresh.id });
    expect(await outcome(user.api.invitation.accept({ token }))).toBe('NOT_FOUND');
    expect(await outcome(user.api.invitation.preview({ token: 'no-such-token' }))).toBe('NOT_FOUND');
    await expect(
      team.browsers.owner.api.invitation.create({
        workspaceId,
        email: team.users.viewer.email,
        role: 'VIEWER',
      }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(
      await outcome(
        team.browsers.owner.api.invitation.create({
          workspaceId,
          email: 'o@example.com',
          role: 'OWNER' as 'ADMIN',
        }),
      ),
    ).toBe('BAD_REQUEST');
  });

  it('emails the link when a mailer is configured', async () => {
    const team = await createTeam(t.db);
    const sent: { to: string; subject: string; text: string }[] = [];
    const admin = team.browsers.admin;
    const base = await admin.contextOptions();
    const { createContext } = await import('./context.ts');
    const { appRouter } = await import('./root.ts');
    const { createCallerFactory } = await import('./trpc.ts');
    const caller = createCallerFactory(appRouter)(() =>
      createContext({ ...base, mailer: { send: async (m) => void sent.push(m), close() {} } }),
    );
    const created = await caller.invitation.create({
      workspaceId: team.workspace.id,
      email: 'mail@example.com',
      role: 'VIEWER',
    });
    expect(created.emailed).toBe(true);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.to).toBe('mail@example.com');
    expect(sent[0]?.text).toContain(created.url);

    // A failing mail server does not lose the invitation: the link is still returned to share by hand.
    const failing = createCallerFactory(appRouter)(() =>
      createContext({
        ...base,
        mailer: {
          send: async () => {
            throw new Error('SMTP down');
          },
          close() {},
        },
      }),
    );
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const second = await failing.invitation.create({
      workspaceId: team.workspace.id,
      email: 'down@example.com',
      role: 'VIEWER',
    });
    warn.mockRestore();
    expect(second).toMatchObject({ emailed: false, url: expect.stringContaining('/invite/') });
  });
});

describe('audit log', () => {
  it('records the security-relevant actions of a workspace, with who did them', async () => {
    const team = await createTeam(t.db);
    const workspaceId = team.workspace.id;
    const owner = team.browsers.owner.api;
    await owner.workspace.rename({ workspaceId, name: 'Renamed' });
    const invitation = await owner.invitation.create({
      workspaceId,
      email: 'audit@example.com',
      role: 'VIEWER',
    });
    await owner.invitation.revoke({ workspaceId, invitationId: invitation.id });
    const token = await owner.apiToken.create({ workspaceId, name: 'audit' });
    await owner.apiToken.revoke({ workspaceId, tokenId: token.id });
    await owner.member.updateRole({ workspaceId, userId: team.users.target.id, role: 'VIEWER' });
    await owner.member.remove({ workspaceId, userId: team.users.target.id });
    await owner.workspace.transferOwnership({ workspaceId, userId: team.users.admin.id });
    const { items } = await owner.audit.list({ workspaceId });
    // Sorted: entries made within one millisecond have no defined order.
    expect(
      items
        .slice(0, 8)
        .map((item) => item.action)
        .sort(),
    ).toEqual(
      [
        'workspace.ownership_transferred',
        'member.removed',
        'member.role_changed',
        'api_token.revoked',
        'api_token.created',
        'invitation.revoked',
        'invitation.created',
        'workspace.renamed',
      ].sort(),
    );
    expect(items.find((item) => item.action === 'workspace.ownership_transferred')?.actor).toEqual({
      name: 'owner',
      email: team.users.owner.email,
    });
    // Viewers and editors cannot read it.
    expect(await outcome(team.browsers.editor.api.audit.list({ workspaceId }))).toBe('FORBIDDEN');
  });

  it('pages through entries newest first', async () => {
    const team = await createTeam(t.db);
    const workspaceId = team.workspace.id;
    for (let i = 0; i < 55; i++) {
      await t.db.auditLog.create({
        data: {
          workspaceId,
          action: 'workspace.renamed',
          target: `n${i}`,
          createdAt: new Date(Date.now() - i * 1000),
        },
      });
    }
    const admin = team.browsers.admin.api;
    const first = await admin.audit.list({ workspaceId });
    expect(first.items).toHaveLength(50);
    expect(first.items[0]?.target).toBe('n0');
    expect(first.nextCursor).toBe(first.items.at(-1)?.id);
    const second = await admin.audit.list({ workspaceId, cursor: first.nextCursor });
    const seen = new Set([...first.items, ...second.items].map((item) => item.id));
    expect(seen.size).toBe(first.items.length + second.items.length);
    expect(second.nextCursor).toBeNull();
  });
});
