import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { DomainError } from '@kiln/core';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** One AES-256 key and the id stored beside every row it encrypted. */
export interface SecretKey {
  id: string;
  key: Buffer;
}

/** The key new ciphertexts use, and every key older rows may still be under (rotation reads them). */
export interface Keyring {
  current: SecretKey;
  byId: ReadonlyMap<string, SecretKey>;
}

/** Reads a 32-byte key written as base64 (what `npm start` generates) or 64 hex digits. */
export function parseSecretsKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed, 'base64');
  if (key.length !== KEY_BYTES) {
    throw new DomainError('VALIDATION_FAILED', 'A secrets key must be 32 bytes, as base64 or 64 hex digits');
  }
  return key;
}

/** A fresh random key, base64 encoded. */
export function generateSecretsKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

// The id is a hash of the key, so a row names its key without the operator keeping a separate id,
// and the id says nothing usable about the key.
function keyId(key: Buffer): string {
  return createHash('sha256').update('kiln-secrets-key-id\0').update(key).digest('hex').slice(0, 16);
}

/** A keyring encrypting under `current`, able to decrypt under `current` and `previous`. */
export function createKeyring(current: Buffer, previous: Buffer[] = []): Keyring {
  const byId = new Map<string, SecretKey>();
  for (const key of [current, ...previous]) {
    if (key.length !== KEY_BYTES)
      throw new DomainError('VALIDATION_FAILED', 'A secrets key must be 32 bytes');
    byId.set(keyId(key), { id: keyId(key), key });
  }
  return { current: { id: keyId(current), key: current }, byId };
}

/** AES-256-GCM under the current key: iv | tag | data; `aad` binds the ciphertext to its row. */
export function seal(
  keyring: Keyring,
  plaintext: Buffer,
  aad: string,
): { ciphertext: Uint8Array<ArrayBuffer>; keyId: string } {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyring.current.key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  // A plain Uint8Array: Prisma's Bytes column takes one backed by its own ArrayBuffer.
  const ciphertext = new Uint8Array(Buffer.concat([iv, cipher.getAuthTag(), data]));
  return { ciphertext, keyId: keyring.current.id };
}

/** Decrypts what `seal` wrote; a missing key or a tampered or moved row is an error, never garbage. */
export function open(keyring: Keyring, ciphertext: Uint8Array, keyId: string, aad: string): Buffer {
  const key = keyring.byId.get(keyId);
  if (!key) {
    throw new DomainError(
      'INTERNAL',
      `A secret is encrypted under key ${keyId}, which this server does not have; add it to KILN_SECRETS_OLD_KEYS`,
    );
  }
  const bytes = Buffer.from(ciphertext);
  if (bytes.length < IV_BYTES + TAG_BYTES) throw new DomainError('INTERNAL', 'A stored secret is damaged');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, bytes.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    throw new DomainError('INTERNAL', 'A stored secret failed its integrity check');
  }
}
