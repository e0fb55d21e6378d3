import { z } from 'zod';

// Control characters (NUL above all, which Postgres rejects in text) never belong in names, nor
// do unpaired UTF-16 surrogates, which Postgres refuses in JSON (the audit log keeps names there).
const CONTROL_CHARS = /\p{Cc}/u;
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** A trimmed, single-line, non-empty text of at most `max` characters. */
export function text(label: string, max = 100) {
  return z
    .string(`${label} must be text`)
    .max(max * 4, `${label} must be at most ${max} characters`)
    .trim()
    .min(1, `${label} cannot be empty`)
    .max(max, `${label} must be at most ${max} characters`)
    .refine((value) => !CONTROL_CHARS.test(value), `${label} cannot contain control characters`)
    .refine((value) => !LONE_SURROGATE.test(value), `${label} contains an invalid character`);
}

/** An id of a row: always a uuid. */
export function id(label: string) {
  return z.uuid(`${label} is not a valid id`);
}

export const email = z
  .string('Email must be text')
  .max(254, 'Email must be at most 254 characters')
  .trim()
  .toLowerCase()
  .pipe(z.email('Enter a valid email address'));

export const newPassword = z
  .string('Password must be text')
  .min(10, 'Password must be at least 10 characters')
  .max(200, 'Password must be at most 200 characters');

export const existingPassword = z
  .string('Password must be text')
  .min(1, 'Enter your password')
  .max(200, 'Password must be at most 200 characters');

export const role = z.enum(
  ['OWNER', 'ADMIN', 'EDITOR', 'VIEWER'],
  'Role must be OWNER, ADMIN, EDITOR or VIEWER',
);
export const invitableRole = z.enum(['ADMIN', 'EDITOR', 'VIEWER'], 'Role must be ADMIN, EDITOR or VIEWER');

/** Secrets from links (invitation tokens). */
export const linkToken = z
  .string('Token must be text')
  .min(1, 'Token is missing')
  .max(200, 'Token is too long');

// Whole inputs of the procedures behind Kiln's forms. The web app's forms validate with these very
// schemas (through `@kiln/api/inputs`), so a browser and the server accept and reject alike.

export const notebookName = text('Notebook name', 200);

export const signUpInput = z.object({
  name: text('Name'),
  email,
  password: newPassword,
  /** The token of the invitation link the person came from (needed when sign-up is by invitation). */
  invitation: z.string().max(200).optional(),
});
export const signInInput = z.object({ email, password: existingPassword });
/**
 * Only a name: the address is generated (`newWorkspaceSlug`), so creating a workspace never answers
 * "that address is taken". A `slug` sent by an older client is refused rather than silently dropped.
 */
export const createWorkspaceInput = z.strictObject(
  { name: text('Name') },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? 'A workspace address is generated from its name; it cannot be chosen'
        : undefined,
  },
);
export const renameWorkspaceInput = z.object({ name: text('Name') });
/** A notebook's name, asked for on create and rename. */
export const notebookNameInput = z.object({ name: notebookName });
export const inviteInput = z.object({ email, role: invitableRole });
export const updateProfileInput = z.object({ name: text('Name') });
export const changePasswordInput = z.object({
  // Empty is allowed for GitHub-only accounts, which have no password yet.
  currentPassword: z
    .string('Current password must be text')
    .max(200, 'Password must be at most 200 characters'),
  newPassword,
});
