import { DomainError } from '@kiln/core';
import type { Db, MembershipModel as Membership, Prisma, Role } from '@kiln/db';
import { recordAudit } from './audit.ts';

type Tx = Prisma.TransactionClient;

export interface Actor {
  userId: string;
  role: Role;
  ip?: string | null;
}

export interface MemberListItem {
  userId: string;
  email: string;
  name: string;
  role: Role;
  joinedAt: Date;
}

/** The caller's membership in a workspace, or null when not a member (or no such workspace). */
export function getMembership(db: Db, workspaceId: string, userId: string): Promise<Membership | null> {
  return db.membership.findUnique({ where: { workspaceId_userId: { workspaceId, userId } } });
}

/** Everyone in a workspace, owners first. */
export async function listMembers(db: Db, workspaceId: string): Promise<MemberListItem[]> {
  const rows = await db.membership.findMany({
    where: { workspaceId },
    include: { user: { select: { email: true, name: true } } },
    orderBy: [{ role: 'asc' }, { createdAt: 'asc' }],
  });
  return rows.map((row) => ({
    userId: row.userId,
    email: row.user.email,
    name: row.user.name,
    role: row.role,
    joinedAt: row.createdAt,
  }));
}

/**
 * Locks the workspace row so that concurrent role changes cannot both pass the last-owner check,
 * then returns the target membership.
 */
async function lockAndLoad(tx: Tx, workspaceId: string, userId: string): Promise<Membership> {
  await tx.$queryRaw`SELECT id FROM "Workspace" WHERE id = ${workspaceId}::uuid FOR UPDATE`;
  const membership = await tx.membership.findUnique({
    where: { workspaceId_userId: { workspaceId, userId } },
  });
  if (!membership) throw new DomainError('NOT_FOUND', 'Member not found');
  return membership;
}

async function assertNotLastOwner(tx: Tx, workspaceId: string, message: string): Promise<void> {
  const owners = await tx.membership.count({ where: { workspaceId, role: 'OWNER' } });
  if (owners <= 1) throw new DomainError('LAST_OWNER', message);
}

/** Changes a member's role. Only owners grant or take away OWNER; the last owner stays an owner. */
export async function updateMemberRole(
  db: Db,
  actor: Actor,
  workspaceId: string,
  targetUserId: string,
  role: Role,
): Promise<MemberListItem> {
  return db.$transaction(async (tx) => {
    const target = await lockAndLoad(tx, workspaceId, targetUserId);
    if ((role === 'OWNER' || target.role === 'OWNER') && actor.role !== 'OWNER') {
      throw new DomainError('FORBIDDEN', 'Only an owner can grant or change the owner role.');
    }
    if (target.role === role) return toItem(tx, target);
    if (target.role === 'OWNER') {
      await assertNotLastOwner(
        tx,
        workspaceId,
        'A workspace needs at least one owner; make someone else an owner first.',
      );
    }
    const updated = await tx.membership.update({ where: { id: target.id }, data: { role } });
    await recordAudit(tx, {
      action: 'member.role_changed',
      workspaceId,
      actorId: actor.userId,
      target: targetUserId,
      metadata: { from: target.role, to: role },
      ip: actor.ip,
    });
    return toItem(tx, updated);
  });
}

async function toItem(tx: Tx, membership: Membership): Promise<MemberListItem> {
  const user = await tx.user.findUniqueOrThrow({ where: { id: membership.userId } });
  return {
    userId: membership.userId,
    email: user.email,
    name: user.name,
    role: membership.role,
    joinedAt: membership.createdAt,
  };
}

/** Removes a member (admins remove non-owners; only owners remove owners; never the last owner). */
export async function removeMember(
  db: Db,
  actor: Actor,
  workspaceId: string,
  targetUserId: string,
): Promise<void> {
  await db.$transaction(async (tx) => {
    const target = await lockAndLoad(tx, workspaceId, targetUserId);
    if (target.role === 'OWNER') {
      if (actor.role !== 'OWNER') throw new DomainError('FORBIDDEN', 'Only an owner can remove an owner.');
      await assertNotLastOwner(
        tx,
        workspaceId,
        'The last owner cannot be removed; transfer ownership first.',
      );
    }
    await tx.membership.delete({ where: { id: target.id } });
    await tx.apiToken.updateMany({
      where: { workspaceId, userId: targetUserId, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    await recordAudit(tx, {
      action: targetUserId === actor.userId ? 'member.left' : 'member.removed',
      workspaceId,
      actorId: actor.userId,
      target: targetUserId,
      ip: actor.ip,
    });
  });
}

/** Leaves a workspace; the last owner must transfer ownership (or delete the workspace) first. */
export async function leaveWorkspace(db: Db, actor: Actor, workspaceId: string): Promise<void> {
  await db.$transaction(async (tx) => {
    const me = await lockAndLoad(tx, workspaceId, actor.userId);
    if (me.role === 'OWNER') {
      await assertNotLastOwner(
        tx,
        workspaceId,
        'You are the last owner; transfer ownership or delete the workspace instead.',
      );
    }
    await tx.membership.delete({ where: { id: me.id } });
    await tx.apiToken.updateMany({
      where: { workspaceId, userId: actor.userId, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    await recordAudit(tx, {
      action: 'member.left',
      workspaceId,
      actorId: actor.userId,
      target: actor.userId,
      ip: actor.ip,
    });
  });
}

/** Makes another member the owner; the previous owner becomes an admin. */
export async function transferOwnership(
  db: Db,
  actor: Actor,
  workspaceId: string,
  newOwnerId: string,
): Promise<void> {
  if (actor.role !== 'OWNER') throw new DomainError('FORBIDDEN', 'Only an owner can transfer ownership.');
  if (newOwnerId === actor.userId) {
    throw new DomainError('BAD_REQUEST', 'You already own this workspace; pick another member.', {
      field: 'userId',
    });
  }
  await db.$transaction(async (tx) => {
    const target = await lockAndLoad(tx, workspaceId, newOwnerId);
    const me = await tx.membership.findUnique({
      where: { workspaceId_userId: { workspaceId, userId: actor.userId } },
    });
    if (me?.role !== 'OWNER') throw new DomainError('FORBIDDEN', 'Only an owner can transfer ownership.');
    await tx.membership.update({ where: { id: target.id }, data: { role: 'OWNER' } });
    await tx.membership.update({ where: { id: me.id }, data: { role: 'ADMIN' } });
    await recordAudit(tx, {
      action: 'workspace.ownership_transferred',
      workspaceId,
      actorId: actor.userId,
      target: newOwnerId,
      metadata: { previousRole: target.role },
      ip: actor.ip,
    });
  });
}
