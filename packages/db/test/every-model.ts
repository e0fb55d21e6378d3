import type { Db } from '../src/client.ts';

/**
 * Writes, reads and cascade-deletes a row in every model through Prisma, returning what a caller
 * should see. Shared by the tests of the real and the embedded database: a column, enum, index or
 * foreign key missing from the migrations makes one of these queries fail or return the wrong thing.
 */
export async function exerciseEveryModel(db: Db, tag: string) {
  const user = await db.user.create({
    data: { email: `ada-${tag}@example.com`, name: 'Ada', githubId: `gh-${tag}` },
  });
  const inviter = await db.user.create({ data: { email: `bob-${tag}@example.com`, name: 'Bob' } });
  const workspace = await db.workspace.create({ data: { name: 'Lab', slug: `lab-${tag}` } });
  await db.session.create({
    data: {
      tokenHash: `s-${tag}`,
      userId: user.id,
      csrfToken: 'c',
      expiresAt: new Date(Date.now() + 60_000),
    },
  });
  await db.membership.create({ data: { workspaceId: workspace.id, userId: user.id, role: 'OWNER' } });
  const duplicateMembership = await db.membership
    .create({ data: { workspaceId: workspace.id, userId: user.id, role: 'VIEWER' } })
    .then(() => 'created')
    .catch((error: { code?: string }) => error.code);
  await db.invitation.create({
    data: {
      workspaceId: workspace.id,
      email: 'c@example.com',
      role: 'EDITOR',
      tokenHash: `i-${tag}`,
      invitedById: inviter.id,
      expiresAt: new Date(Date.now() + 60_000),
    },
  });
  await db.apiToken.create({
    data: { name: 'ci', prefix: 'kiln_', tokenHash: `t-${tag}`, userId: user.id, workspaceId: workspace.id },
  });
  const notebook = await db.notebook.create({
    data: { workspaceId: workspace.id, name: 'nb', createdById: inviter.id },
  });
  const firstUpdate = await db.notebookUpdate.create({
    data: { notebookId: notebook.id, data: new Uint8Array([0, 1, 255]) },
  });
  const secondUpdate = await db.notebookUpdate.create({
    data: { notebookId: notebook.id, data: new Uint8Array([7]) },
  });
  const updates = await db.notebookUpdate.findMany({
    where: { notebookId: notebook.id },
    orderBy: { id: 'asc' },
  });
  await db.auditLog.create({
    data: {
      workspaceId: workspace.id,
      actorId: inviter.id,
      action: 'workspace.create',
      metadata: { a: [1, 'x'] },
    },
  });
  await db.signInThrottle.create({ data: { key: `k-${tag}`, attempts: 1, lastAttempt: new Date() } });

  const loaded = await db.workspace.findUniqueOrThrow({
    where: { slug: `lab-${tag}` },
    include: {
      memberships: { include: { user: true } },
      invitations: true,
      notebooks: true,
      apiTokens: true,
    },
  });

  // Deleting the inviter sets the nullable references to NULL; deleting the workspace cascades.
  await db.user.delete({ where: { id: inviter.id } });
  const invitationAfterInviterDeleted = await db.invitation.findUniqueOrThrow({
    where: { tokenHash: `i-${tag}` },
  });
  await db.workspace.delete({ where: { id: workspace.id } });
  const audit = await db.auditLog.findFirstOrThrow({ where: { action: 'workspace.create', target: null } });
  await db.user.delete({ where: { id: user.id } });

  return {
    plan: loaded.plan,
    personal: loaded.personal,
    memberEmails: loaded.memberships.map((m) => m.user.email),
    counts: [loaded.invitations.length, loaded.notebooks.length, loaded.apiTokens.length],
    updates: {
      data: updates.map((u) => [...u.data]),
      idsIncrease: typeof firstUpdate.id === 'bigint' && secondUpdate.id > firstUpdate.id,
    },
    duplicateMembership,
    invitedByAfterDelete: invitationAfterInviterDeleted.invitedById,
    auditAfterDeletes: { workspaceId: audit.workspaceId, actorId: audit.actorId, metadata: audit.metadata },
    remaining: {
      sessions: await db.session.count({ where: { tokenHash: `s-${tag}` } }),
      memberships: await db.membership.count({ where: { userId: user.id } }),
      invitations: await db.invitation.count({ where: { tokenHash: `i-${tag}` } }),
      apiTokens: await db.apiToken.count({ where: { tokenHash: `t-${tag}` } }),
      notebooks: await db.notebook.count({ where: { workspaceId: workspace.id } }),
      notebookUpdates: await db.notebookUpdate.count({ where: { notebookId: notebook.id } }),
      signInThrottles: await db.signInThrottle.count({ where: { key: `k-${tag}` } }),
    },
  };
}

/** What `exerciseEveryModel` returns on a correctly migrated database. */
export function expectedEveryModel(tag: string) {
  return {
    plan: 'STARTER',
    personal: false,
    memberEmails: [`ada-${tag}@example.com`],
    counts: [1, 1, 1],
    updates: { data: [[0, 1, 255], [7]], idsIncrease: true },
    duplicateMembership: 'P2002',
    invitedByAfterDelete: null,
    auditAfterDeletes: { workspaceId: null, actorId: null, metadata: { a: [1, 'x'] } },
    remaining: {
      sessions: 0,
      memberships: 0,
      invitations: 0,
      apiTokens: 0,
      notebooks: 0,
      notebookUpdates: 0,
      signInThrottles: 1,
    },
  };
}
