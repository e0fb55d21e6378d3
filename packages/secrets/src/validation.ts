import { DomainError } from '@kiln/core';

/** Largest value of one variable (what the kernel gateway accepts for one env entry). */
export const MAX_VALUE_BYTES = 32 * 1024;
export const MAX_KEYS_PER_SECRET = 100;
export const MAX_SECRETS_PER_NOTEBOOK = 20;
export const MAX_SECRETS_PER_WORKSPACE = 500;

const SECRET_NAME = /^[a-z][a-z0-9_-]{0,62}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
// Variables that change how the sandbox's programs load or where they look: a secret must not
// silently replace them for every kernel that names it.
const RESERVED = /^(PATH|HOME|USER|SHELL|PWD|LD_.*|PYTHON.*|KILN_.*|JPY_.*|JUPYTER_.*)$/;

function invalid(field: string, message: string): DomainError {
  return new DomainError('VALIDATION_FAILED', message, { field });
}

/** A secret's name: lower-case letters, digits, - and _, starting with a letter, at most 63 characters. */
export function validateSecretName(name: string): string {
  if (!SECRET_NAME.test(name)) {
    throw invalid('name', 'A secret name is 1-63 lower-case letters, digits, - or _, starting with a letter');
  }
  return name;
}

/** Checks variable names and values; returns the entries sorted by name. */
export function validateValues(values: Record<string, string>): [string, string][] {
  const entries = Object.entries(values);
  if (entries.length === 0) throw invalid('values', 'A secret needs at least one variable');
  if (entries.length > MAX_KEYS_PER_SECRET) {
    throw invalid('values', `A secret holds at most ${MAX_KEYS_PER_SECRET} variables`);
  }
  for (const [key, value] of entries) {
    if (!ENV_NAME.test(key)) {
      throw invalid(
        'values',
        `${key.slice(0, 40)} is not a variable name: letters, digits and _, not starting with a digit`,
      );
    }
    if (RESERVED.test(key))
      throw invalid('values', `${key} is reserved for the sandbox and cannot be a secret`);
    if (typeof value !== 'string') throw invalid('values', `The value of ${key} must be text`);
    if (Buffer.byteLength(value, 'utf8') > MAX_VALUE_BYTES) {
      throw new DomainError('PAYLOAD_TOO_LARGE', `The value of ${key} is over 32 KiB`, { field: 'values' });
    }
    if (value.includes('\0')) throw invalid('values', `The value of ${key} cannot contain a NUL character`);
  }
  return entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
