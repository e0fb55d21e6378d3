export {
  API_TOKEN_PREFIX,
  type ApiTokenListItem,
  createApiToken,
  DEFAULT_API_TOKEN_DAYS,
  listApiTokens,
  type ResolvedApiToken,
  resolveApiToken,
  revokeApiToken,
  revokeUserApiTokens,
} from './api-tokens.ts';
export { type AuditAction, type AuditListItem, listAudit, recordAudit } from './audit.ts';
export {
  createGitHubAuth,
  fetchGitHubProfile,
  type GitHubAuth,
  type GitHubProfile,
  signInWithGitHub,
} from './github.ts';
export {
  acceptInvitation,
  acceptInvitationById,
  createInvitation,
  INVITATION_TTL_MS,
  type InvitationListItem,
  type InvitationPreview,
  listPendingInvitations,
  maskEmail,
  previewInvitation,
  revokeInvitation,
} from './invitations.ts';
export { createMailer, invitationEmail, type Mailer, type MailMessage } from './mailer.ts';
export {
  type Actor,
  getMembership,
  leaveWorkspace,
  listMembers,
  type MemberListItem,
  removeMember,
  transferOwnership,
  updateMemberRole,
} from './memberships.ts';
export {
  getNotebookVersion,
  listNotebookVersions,
  type NotebookVersionListItem,
  saveAutoNotebookVersion,
  saveNotebookVersion,
} from './notebook-versions.ts';
export {
  createNotebook,
  deleteNotebook,
  getNotebook,
  listNotebooks,
  type NotebookListItem,
  type NotebookResources,
  renameNotebook,
  setNotebookResources,
} from './notebooks.ts';
export {
  DEFAULT_PASSWORD_HASH_OPTIONS,
  hashPassword,
  type PasswordHashOptions,
  TEST_PASSWORD_HASH_OPTIONS,
  verifyPassword,
} from './password.ts';
export {
  countSignInAttempt,
  refundSignInAttempt,
  SIGN_IN_LIMITS,
  signInDelayMs,
  signInKeys,
} from './rate-limit.ts';
export { ACTIONS, type Action, can, minimumRole, ROLES, roleRank } from './roles.ts';
export {
  CSRF_COOKIE,
  CSRF_HEADER,
  createSession,
  deleteSession,
  deleteUserSessions,
  type NewSession,
  type ResolvedSession,
  resolveSession,
  SESSION_COOKIE,
  SESSION_TTL_MS,
} from './sessions.ts';
export {
  confirmSignUp,
  requestSignUp,
  SIGN_UP_LINK_TTL_MS,
  type SignUpRequestOptions,
} from './sign-up-verification.ts';
export { SWEEP_INTERVAL_MS, sweepExpiredRecords } from './sweep.ts';
export { randomToken, safeEqual, sha256 } from './tokens.ts';
export {
  changePassword,
  createPasswordAccount,
  normalizeEmail,
  type PasswordOptions,
  type PublicUser,
  SIGN_UP_BY_INVITATION,
  type SignUpMode,
  signInWithPassword,
  signUp,
  updateUserName,
} from './users.ts';
export {
  createWorkspace,
  deleteWorkspace,
  getWorkspaceBySlug,
  listWorkspaces,
  renameWorkspace,
  SLUG_PATTERN,
  slugify,
  type WorkspaceSummary,
} from './workspaces.ts';
