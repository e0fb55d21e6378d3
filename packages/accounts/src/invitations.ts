import { DomainError } from '@kiln/core';
import type { Db, Role } from '@kiln/db';
import { recordAudit } from './audit.ts';
import { randomToken, sha256 } from './tokens.ts';
import { normalizeEmail } from './users.ts';

/** Invitation links work for 7 days. */
export const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export interface InvitationListItem {
  id: string;
  email: string;
  role: Role;
  expiresAt: Date;
  createdAt: Date;
  invitedBy: { name: string; email: string } | null;
}

export interface InvitationPreview {
  workspaceName: string;
  role: Role;
  invitedBy: string | null;
  /** The invited address masked (`a•••@e•••.com`): a forwarded link must not give away who was invited. */
  email: string;
  /** Whether the signed-in viewer is the invited address; null when signed out. */
  forYou: boolean | null;
  expired: boolean;
  accepted: boolean;
}

/** `ada@example.com` as `a•••@e•••.com`: enough for the invitee to recognise, too little to harvest. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '•••';
  const domain = email.slice(at + 1);
  const dot = domain.lastIndexOf('.');
  const tld = dot > 0 ? domain.slice(dot) : '';
  return `${email[0]}•••@${domain[0] ?? ''}•••${tld}`;
}

/** Creates a single-use invitation and returns its secret token (only its hash is stored). */
export async function createInvitation(
  db: Db,
  input: { workspaceId: string; invitedById: string; email: string; role: Role; ip?: string | null },
  now = new Date(),
): Promise<{ id: string; token: string; expiresAt: Date; workspaceName: string }> {
  if (input.role === 'OWNER') {
    throw new DomainError(
      'BAD_REQUEST',
      'Invite as admin, editor or viewer; transfer ownership separately.',
      {
        field: 'role',
      },
    );
  }
  const email = normalizeEmail(input.email);
  const member = await db.membership.findFirst({
    where: { workspaceId: input.workspaceId, user: { email } },
  });
  if (member)
    throw new DomainError('CONFLICT', `${email} is already a member of this workspace.`, { field: 'email' });
  const token = randomToken(32);
  const expiresAt = new Date(now.getTime() + INVITATION_TTL_MS);
  return db.$transaction(async (tx) => {
    const invitation = await tx.invitation.create({
      data: {
        workspaceId: input.workspaceId,
        email,
        role: input.role,
        tokenHash: sha256(token),
        invitedById: input.invitedById,
        expiresAt,
        createdAt: now,
      },
      include: { workspace: { select: { name: true } } },
    });
    await recordAudit(tx, {
      action: 'invitation.created',
      workspaceId: input.workspaceId,
      actorId: input.invitedById,
      target: email,
      metadata: { invitationId: invitation.id, role: input.role },
      ip: input.ip,
    });
    return { id: invitation.id, token, expiresAt, workspaceName: invitation.workspace.name };
  });
}

/** Invitations still waiting for an answer (not accepted, revoked or expired). */
export async function listPendingInvitations(
  db: Db,
  workspaceId: string,
  now = new Date(),
): Promise<InvitationListItem[]> {
  const rows = await db.invitation.findMany({
    where: { workspaceId, acceptedAt: null, revokedAt: null, expiresAt: { gt: now } },
    include: { invitedBy: { select: { name: true, email: true } } },
    orderBy: { createdAt: 'desc' },
  });
  return rows.map((row) => ({
    id: row.id,
    email: row.email,
    role: row.role,
    expiresAt: row.expiresAt,
    createdAt: row.createdAt,
    invitedBy: row.invitedBy,
  }));
}

/** Withdraws a pending invitation of this workspace; its link stops working. */
export async function revokeInvitation(
  db: Db,
  actor: { userId: string; ip?: string | null },
  workspaceId: string,
  invitationId: string,
): Promise<void> {
  const result = await db.invitation.updateMany({
    where: { id: invitationId, workspaceId, acceptedAt: null, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  if (result.count === 0) throw new DomainError('NOT_FOUND', 'Invitation not found');
  await recordAudit(db, {
    action: 'invitation.revoked',
    workspaceId,
    actorId: actor.userId,
    target: invitationId,
    ip: actor.ip,
  });
}

const WITH_WORKSPACE = {
  workspace: { select: { id: true, name: true, slug: true } },
  invitedBy: { select: { name: true } },
} as const;

async function findByToken(db: Db, token: string) {
  if (token.length === 0 || token.length > 200) return null;
  return db.invitation.findUnique({ where: { tokenHash: sha256(token) }, include: WITH_WORKSPACE });
}

type FoundInvitation = Awaited<ReturnType<typeof findByToken>>;

/** What an invitation link offers, for the page that asks whether to accept it. */
export async function previewInvitation(
  db: Db,
  token: string,
  viewerEmail: string | null = null,
  now = new Date(),
): Promise<InvitationPreview> {
  const invitation = await findByToken(db, token);
  if (!invitation || invitation.revokedAt) throw new DomainError('NOT_FOUND', 'Invitation not found');
  return {
    workspaceName: invitation.workspace.name,
    role: invitation.role,
    invitedBy: invitation.invitedBy?.name ?? null,
    email: maskEmail(invitation.email),
    forYou: viewerEmail === null ? null : normalizeEmail(viewerEmail) === invitation.email,
    expired: invitation.expiresAt.getTime() <= now.getTime(),
    accepted: invitation.acceptedAt !== null,
  };
}

/**
 * Accepts an invitation for the signed-in user, who must be the invited address: a link that leaks
 * (forwarded mail, a shared screen) must not let someone else in. A user who is already a member just
 * goes to the workspace and keeps their role, and the link stays usable for the invitee. The token is
 * single use: the first accept wins even under concurrency.
 */
export async function acceptInvitation(
  db: Db,
  input: { userId: string; token: string; ip?: string | null },
  now = new Date(),
): Promise<{ workspaceId: string; slug: string }> {
  return join(db, await findByToken(db, input.token), input, now);
}

/**
 * Accepts the invitation an email-confirmed sign-up came from (its link was opened on the sign-up
 * page, the confirmation link proved the address), with the same checks as following the link.
 */
export async function acceptInvitationById(
  db: Db,
  input: { userId: string; invitationId: string; ip?: string | null },
  now = new Date(),
): Promise<{ workspaceId: string; slug: string }> {
  const invitation = await db.invitation.findUnique({
    where: { id: input.invitationId },
    include: WITH_WORKSPACE,
  });
  return join(db, invitation, input, now);
}

async function join(
  db: Db,
  invitation: FoundInvitation,
  input: { userId: string; ip?: string | null },
  now: Date,
): Promise<{ workspaceId: string; slug: string }> {
  if (!invitation || invitation.revokedAt) throw new DomainError('NOT_FOUND', 'Invitation not found');
  const member = await db.membership.findUnique({
    where: { workspaceId_userId: { workspaceId: invitation.workspaceId, userId: input.userId } },
  });
  if (member) return { workspaceId: invitation.workspace.id, slug: invitation.workspace.slug };
  if (invitation.acceptedAt) {
    throw new DomainError('INVITATION_INVALID', 'This invitation has already been used; ask for a new one.');
  }
  if (invitation.expiresAt.getTime() <= now.getTime()) {
    throw new DomainError('INVITATION_INVALID', 'This invitation has expired; ask for a new one.');
  }
  const user = await db.user.findUniqueOrThrow({ where: { id: input.userId }, select: { email: true } });
  if (normalizeEmail(user.email) !== invitation.email) {
    throw new DomainError(
      'FORBIDDEN',
      `This invitation was sent to ${maskEmail(invitation.email)}. Sign in with that address, or ask for an invitation to yours.`,
    );
  }
  return db.$transaction(async (tx) => {
    const claimed = await tx.invitation.updateMany({
      where: { id: invitation.id, acceptedAt: null, revokedAt: null, expiresAt: { gt: now } },
      data: { acceptedAt: now },
    });
    if (claimed.count === 0) {
      throw new DomainError(
        'INVITATION_INVALID',
        'This invitation has already been used; ask for a new one.',
      );
    }
    await tx.membership.create({
      data: { workspaceId: invitation.workspaceId, userId: input.userId, role: invitation.role },
    });
    await recordAudit(tx, {
      action: 'invitation.accepted',
      workspaceId: invitation.workspaceId,
      actorId: input.userId,
      target: user.email,
      metadata: {
        invitationId: invitation.id,
        invitedEmail: invitation.email,
        role: invitation.role,
      },
      ip: input.ip,
    });
    return { workspaceId: invitation.workspace.id, slug: invitation.workspace.slug };
  });
}
