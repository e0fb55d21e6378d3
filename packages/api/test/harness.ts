import { randomUUID } from 'node:crypto';
import {
  createApiToken,
  createInvitation,
  createSession,
  hashPassword,
  sha256,
  TEST_PASSWORD_HASH_OPTIONS,
} from '@kiln/accounts';
import type { Db, Role } from '@kiln/db';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { createNotebookDoc } from '@kiln/notebook';
import * as Y from 'yjs';
import { type ContextOptions, createContext } from '../src/context.ts';
import { appRouter } from '../src/root.ts';
import type { NotebookServices } from '../src/services.ts';
import { createCallerFactory } from '../src/trpc.ts';

export const PASSWORD = 'correct horse battery staple';
const createCaller = createCallerFactory(appRouter);
export type Caller = ReturnType<typeof createCaller>;

/**
 * A browser (or script) talking to the API: it keeps the cookies the server sets and sends the CSRF
 * header the way the web client does, unless a test overrides it.
 */
export class Browser {
  sessionToken: string | null = null;
  csrfCookie: string | null = randomUUID();
  /** 'auto' sends what the real client sends; a string or null forces the header. */
  csrfHeader: 'auto' | string | null = 'auto';
  apiToken: string | null = null;
  /** Expiry of the last session cookie the server set. */
  cookieExpiresAt: Date | null = null;
  ip: string;
  /** Live documents and execution, as the web app wires them; absent unless a test passes them. */
  services: NotebookServices;
  readonly api: Caller;

  constructor(
    readonly db: Db,
    options: { ip?: string; apiToken?: string; sessionToken?: string; services?: NotebookServices } = {},
  ) {
    this.ip = options.ip ?? `10.0.${Math.floor(Math.random() * 255)}.${Math.floor(Math.random() * 255)}`;
    this.apiToken = options.apiToken ?? null;
    this.sessionToken = options.sessionToken ?? null;
    this.services = options.services ?? {};
    this.api = createCaller(async () => createContext(await this.contextOptions()));
  }

  private csrfCache: { sessionToken: string; csrfToken: string } | null = null;

  /** What the web client sends: `auth.me().csrfToken` when signed in, else the `kiln_csrf` cookie. */
  private async autoCsrf(): Promise<string | null> {
    if (!this.sessionToken) return this.csrfCookie;
    if (this.csrfCache?.sessionToken === this.sessionToken) return this.csrfCache.csrfToken;
    const session = await this.db.session.findUnique({ where: { tokenHash: sha256(this.sessionToken) } });
    if (!session) return this.csrfCookie;
    this.csrfCache = { sessionToken: this.sessionToken, csrfToken: session.csrfToken };
    return session.csrfToken;
  }

  async contextOptions(): Promise<ContextOptions> {
    return {
      db: this.db,
      sessionToken: this.apiToken ? null : this.sessionToken,
      apiToken: this.apiToken,
      csrfHeader: this.apiToken ? null : this.csrfHeader === 'auto' ? await this.autoCsrf() : this.csrfHeader,
      csrfCookie: this.apiToken ? null : this.csrfCookie,
      ip: this.ip,
      userAgent: 'vitest',
      appUrl: 'http://kiln.test',
      mailer: null,
      setSessionCookie: (token, expiresAt) => {
        this.sessionToken = token;
        this.cookieExpiresAt = expiresAt;
      },
      clearSessionCookie: () => {
        this.sessionToken = null;
      },
      githubEnabled: false,
      passwordHash: TEST_PASSWORD_HASH_OPTIONS,
      ...this.services,
    };
  }
}

let passwordHash: Promise<string> | null = null;

/** Inserts a user directly (with PASSWORD), skipping sign-up, for fixtures. */
export async function insertUser(
  db: Db,
  label: string,
): Promise<{ id: string; email: string; name: string }> {
  passwordHash ??= hashPassword(PASSWORD, TEST_PASSWORD_HASH_OPTIONS);
  const email = `${label}-${randomUUID().slice(0, 8)}@example.com`;
  return db.user.create({
    data: { email, name: label, passwordHash: await passwordHash },
    select: { id: true, email: true, name: true },
  });
}

/** A browser signed in as `userId`. */
export async function signedIn(db: Db, userId: string, services?: NotebookServices): Promise<Browser> {
  const { token } = await createSession(db, { userId });
  return new Browser(db, { sessionToken: token, services });
}

export const MEMBER_ROLES = {
  owner: 'OWNER',
  admin: 'ADMIN',
  editor: 'EDITOR',
  viewer: 'VIEWER',
} as const satisfies Record<string, Role>;
export type MemberName = keyof typeof MEMBER_ROLES;
export type Who = MemberName | 'outsider' | 'signedOut';
export const EVERYONE: Who[] = ['owner', 'admin', 'editor', 'viewer', 'outsider', 'signedOut'];

export interface Team {
  workspace: { id: string; slug: string; name: string };
  users: Record<MemberName | 'coOwner' | 'target' | 'outsider', { id: string; email: string; name: string }>;
  /** A workspace the outsider belongs to. */
  otherWorkspace: { id: string; slug: string };
  notebookId: string;
  otherNotebookId: string;
  /** A named version of `notebookId` (an empty notebook) and one of `otherNotebookId`. */
  versionId: string;
  otherVersionId: string;
  invitation: { id: string; token: string };
  otherInvitationId: string;
  /** One token per member role, owned by that member. */
  tokens: Record<MemberName, { id: string; token: string }>;
  browsers: Record<Who, Browser>;
}

/**
 * A team workspace with an owner, a second owner, an admin, an editor, a viewer and a target
 * editor (for role changes and removals), plus an outsider who owns another workspace.
 */
export async function createTeam(db: Db, services?: NotebookServices): Promise<Team> {
  const names = ['owner', 'coOwner', 'admin', 'editor', 'viewer', 'target', 'outsider'] as const;
  const created = await Promise.all(names.map((name) => insertUser(db, name)));
  const users = Object.fromEntries(names.map((name, i) => [name, created[i]])) as Team['users'];
  const suffix = randomUUID().slice(0, 8);
  const workspace = await db.workspace.create({
    data: { name: 'Team', slug: `team-${suffix}` },
    select: { id: true, slug: true, name: true },
  });
  const otherWorkspace = await db.workspace.create({
    data: { name: 'Other', slug: `other-${suffix}` },
    select: { id: true, slug: true },
  });
  const roles: [keyof Team['users'], Role][] = [
    ['owner', 'OWNER'],
    ['coOwner', 'OWNER'],
    ['admin', 'ADMIN'],
    ['editor', 'EDITOR'],
    ['viewer', 'VIEWER'],
    ['target', 'EDITOR'],
  ];
  await db.membership.createMany({
    data: [
      ...roles.map(([name, role]) => ({ workspaceId: workspace.id, userId: users[name].id, role })),
      { workspaceId: otherWorkspace.id, userId: users.outsider.id, role: 'OWNER' as const },
    ],
  });
  const [notebook, otherNotebook] = await Promise.all([
    db.notebook.create({
      data: { workspaceId: workspace.id, name: 'Analysis', createdById: users.owner.id },
    }),
    db.notebook.create({
      data: { workspaceId: otherWorkspace.id, name: 'Secret', createdById: users.outsider.id },
    }),
  ]);
  const snapshot = new Uint8Array(Y.encodeStateAsUpdate(createNotebookDoc()));
  const [version, otherVersion] = await Promise.all(
    [notebook, otherNotebook].map((row) =>
      db.notebookVersion.create({
        data: { notebookId: row.id, name: 'Empty', snapshot, createdById: row.createdById },
        select: { id: true },
      }),
    ),
  );
  const invitation = await createInvitation(db, {
    workspaceId: workspace.id,
    invitedById: users.owner.id,
    email: `invitee-${suffix}@example.com`,
    role: 'EDITOR',
  });
  const otherInvitation = await createInvitation(db, {
    workspaceId: otherWorkspace.id,
    invitedById: users.outsider.id,
    email: `other-${suffix}@example.com`,
    role: 'VIEWER',
  });
  const memberNames = Object.keys(MEMBER_ROLES) as MemberName[];
  const tokenList = await Promise.all(
    memberNames.map((name) =>
      createApiToken(db, { userId: users[name].id, workspaceId: workspace.id, name: `${name} token` }),
    ),
  );
  const tokens = Object.fromEntries(
    memberNames.map((name, i) => [name, tokenList[i]]),
  ) as unknown as Team['tokens'];
  const browserList = await Promise.all(
    (['owner', 'admin', 'editor', 'viewer', 'outsider'] as const).map((name) =>
      signedIn(db, users[name].id, services),
    ),
  );
  const browsers = {
    owner: browserList[0],
    admin: browserList[1],
    editor: browserList[2],
    viewer: browserList[3],
    outsider: browserList[4],
    signedOut: new Browser(db, { services }),
  } as Team['browsers'];
  return {
    workspace,
    users,
    otherWorkspace,
    notebookId: notebook.id,
    otherNotebookId: otherNotebook.id,
    versionId: (version as { id: string }).id,
    otherVersionId: (otherVersion as { id: string }).id,
    invitation: { id: invitation.id, token: invitation.token },
    otherInvitationId: otherInvitation.id,
    tokens,
    browsers,
  };
}

/** The tRPC error code of a failed call, or 'OK'. */
export async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'OK';
  } catch (error) {
    return (error as { code?: string }).code ?? 'THREW';
  }
}

export async function withDatabase(options: { max?: number } = {}): Promise<TestDatabase> {
  return createTestDatabase(options);
}
