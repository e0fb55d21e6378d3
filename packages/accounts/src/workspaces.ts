import { randomBytes } from 'node:crypto';
import { DomainError, SLUG_PATTERN } from '@kiln/core';
import type { Db, PlanTier, Prisma, Role } from '@kiln/db';
import { recordAudit } from './audit.ts';

type Tx = Prisma.TransactionClient;

export { SLUG_PATTERN };

export interface WorkspaceSummary {
  id: string;
  name: string;
  slug: string;
  plan: PlanTier;
  role: Role;
  personal: boolean;
}

/** Lower-case, dash-separated, ASCII-only form of a name, at most 48 characters. */
export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/g, '');
  return slug.length >= 1 ? slug : 'workspace';
}

const SUFFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Six random letters or digits (36^6, about 2.2 billion), without modulo bias. */
function randomSuffix(): string {
  let out = '';
  while (out.length < 6) {
    for (const byte of randomBytes(8)) {
      // 252 = 7 * 36: bytes above it would favour the first letters.
      if (byte < 252 && out.length < 6) out += SUFFIX_ALPHABET[byte % 36];
    }
  }
  return out;
}

/**
 * A new workspace's address: the slugified name plus a random suffix, always. Never "the name, or
 * the name with a suffix when taken", and no user-chosen address: either would answer "that address
 * is taken" and so tell anyone who can create a workspace which names private workspaces use. The
 * answer depends on nobody else's workspaces; a collision on the suffix is retried unseen
 * (`retryOnSlugRace`). Addresses never change afterwards, so links keep working and a rename can
 * not probe either.
 */
export function newWorkspaceSlug(name: string): string {
  return `${slugify(name)}-${randomSuffix()}`;
}

/** Creates a workspace with `userId` as its owner, inside an existing transaction. */
export async function createWorkspaceTx(
  tx: Tx,
  userId: string,
  input: { name: string; personal?: boolean; ip?: string | null },
): Promise<{ id: string; slug: string; name: string }> {
  const slug = newWorkspaceSlug(input.name);
  const workspace = await tx.workspace.create({
    data: {
      name: input.name,
      slug,
      personal: input.personal ?? false,
      memberships: { create: { userId, role: 'OWNER' } },
    },
    select: { id: true, slug: true, name: true },
  });
  await recordAudit(tx, {
    action: 'workspace.created',
    workspaceId: workspace.id,
    actorId: userId,
    target: workspace.slug,
    ip: input.ip,
  });
  return workspace;
}

/** Whether Postgres refused a row because a unique column already held its value. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'P2002';
}

/**
 * Runs `attempt` again (with a fresh random slug) when its insert hit a unique violation;
 * `onConflict` decides whether that violation is final (returns an error) or retried.
 */
export async function retryOnSlugRace<T>(
  attempt: () => Promise<T>,
  onConflict: () => Promise<Error | null>,
): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const final = await onConflict();
      if (final) throw final;
      if (tries >= 5) throw error;
    }
  }
}

/** Creates a team workspace owned by `userId`, at a fresh address (see `newWorkspaceSlug`). */
export async function createWorkspace(
  db: Db,
  userId: string,
  input: { name: string; ip?: string | null },
): Promise<{ id: string; slug: string; name: string }> {
  return retryOnSlugRace(
    () => db.$transaction((tx) => createWorkspaceTx(tx, userId, input)),
    async () => null,
  );
}

/** The workspaces a user belongs to, personal first. */
export async function listWorkspaces(
  db: Db,
  userId: string,
  options: { onlyWorkspaceId?: string } = {},
): Promise<WorkspaceSummary[]> {
  const memberships = await db.membership.findMany({
    where: { userId, ...(options.onlyWorkspaceId ? { workspaceId: options.onlyWorkspaceId } : {}) },
    include: { workspace: true },
    orderBy: [{ workspace: { personal: 'desc' } }, { workspace: { name: 'asc' } }],
  });
  return memberships.map(({ role, workspace }) => ({
    id: workspace.id,
    name: workspace.name,
    slug: workspace.slug,
    plan: workspace.plan,
    role,
    personal: workspace.personal,
  }));
}

/** One workspace by slug, seen by a member; NOT_FOUND for everyone else. */
export async function getWorkspaceBySlug(
  db: Db,
  userId: string,
  slug: string,
): Promise<WorkspaceSummary & { memberCount: number }> {
  const wanted = slug.trim().toLowerCase();
  if (!SLUG_PATTERN.test(wanted)) throw new DomainError('NOT_FOUND', 'Workspace not found');
  const membership = await db.membership.findFirst({
    where: { userId, workspace: { slug: wanted } },
    include: { workspace: { include: { _count: { select: { memberships: true } } } } },
  });
  if (!membership) throw new DomainError('NOT_FOUND', 'Workspace not found');
  const { workspace } = membership;
  return {
    id: workspace.id,
    name: workspace.name,
    slug: workspace.slug,
    plan: workspace.plan,
    role: membership.role,
    personal: workspace.personal,
    memberCount: workspace._count.memberships,
  };
}

/** Renames a workspace (its slug stays, so links keep working). */
export async function renameWorkspace(
  db: Db,
  actor: { userId: string; ip?: string | null },
  workspaceId: string,
  name: string,
): Promise<{ id: string; name: string; slug: string }> {
  return db.$transaction(async (tx) => {
    const before = await tx.workspace.findUnique({ where: { id: workspaceId } });
    if (!before) throw new DomainError('NOT_FOUND', 'Workspace not found');
    const workspace = await tx.workspace.update({
      where: { id: workspaceId },
      data: { name },
      select: { id: true, name: true, slug: true },
    });
    await recordAudit(tx, {
      action: 'workspace.renamed',
      workspaceId,
      actorId: actor.userId,
      target: name,
      metadata: { from: before.name, to: name },
      ip: actor.ip,
    });
    return workspace;
  });
}

/**
 * Deletes a workspace and, through foreign-key cascades, its memberships, invitations, notebooks
 * and API tokens. `confirm` must repeat the slug. Audit rows stay (their workspace link is nulled).
 */
export async function deleteWorkspace(
  db: Db,
  actor: { userId: string; ip?: string | null },
  workspaceId: string,
  confirm: string,
): Promise<void> {
  const workspace = await db.workspace.findUnique({ where: { id: workspaceId } });
  if (!workspace) throw new DomainError('NOT_FOUND', 'Workspace not found');
  if (confirm.trim().toLowerCase() !== workspace.slug) {
    throw new DomainError(
      'VALIDATION_FAILED',
      `Type the workspace address "${workspace.slug}" to confirm deletion.`,
      {
        field: 'confirm',
      },
    );
  }
  if (workspace.personal) {
    throw new DomainError('FORBIDDEN', 'Your personal workspace cannot be deleted.');
  }
  await db.$transaction(async (tx) => {
    await recordAudit(tx, {
      action: 'workspace.deleted',
      workspaceId: null,
      actorId: actor.userId,
      target: workspace.slug,
      metadata: { workspaceId, name: workspace.name },
      ip: actor.ip,
    });
    await tx.workspace.delete({ where: { id: workspaceId } });
  });
}
