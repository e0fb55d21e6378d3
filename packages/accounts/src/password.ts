import { type Algorithm, hash, verify } from '@node-rs/argon2';

/** Argon2id cost parameters. Defaults follow OWASP's recommendation (19 MiB, 2 passes). */
export interface PasswordHashOptions {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export const DEFAULT_PASSWORD_HASH_OPTIONS: PasswordHashOptions = {
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
};

/** Cheap parameters for tests only; never use them for real accounts. */
export const TEST_PASSWORD_HASH_OPTIONS: PasswordHashOptions = {
  memoryCost: 256,
  timeCost: 1,
  parallelism: 1,
};

const ARGON2ID = 2 as Algorithm;

/** Hashes a password with argon2id; the salt and parameters are kept in the PHC string. */
export function hashPassword(
  password: string,
  options: PasswordHashOptions = DEFAULT_PASSWORD_HASH_OPTIONS,
): Promise<string> {
  return hash(password, { ...options, algorithm: ARGON2ID });
}

/** Checks a password against a stored hash; a malformed hash is a mismatch, not a crash. */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

const dummyHashes = new Map<string, Promise<string>>();

/**
 * Spends the same time as a real verification when there is no hash to check (unknown email,
 * GitHub-only account), so response times do not reveal which emails have accounts.
 */
export async function verifyAgainstDummy(
  password: string,
  options: PasswordHashOptions = DEFAULT_PASSWORD_HASH_OPTIONS,
): Promise<false> {
  const key = `${options.memoryCost}:${options.timeCost}:${options.parallelism}`;
  let dummy = dummyHashes.get(key);
  if (!dummy) {
    dummy = hashPassword('kiln-dummy-password-for-timing', options);
    dummyHashes.set(key, dummy);
  }
  await verifyPassword(await dummy, password);
  return false;
}
