import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Seals a kernel's environment (its secret values) for the records a restarted gateway re-adopts
 * kernels from: AES-256-GCM under a key derived from the gateway's secret, so the records on disk never
 * hold a secret in clear and only a gateway started with the same secret can read them back.
 */
export interface EnvSeal {
  seal(env: Record<string, string>, context: string): string;
  /** Throws when the text was altered, sealed for another context or under another secret. */
  open(sealed: string, context: string): Record<string, string>;
  /**
   * A keyed digest (HMAC) of secret values, stable across restarts with the same secret: it can name a
   * file on disk without letting anyone without the secret test guesses of the values against it.
   */
  digest(text: string): string;
}

/** An EnvSeal keyed by HKDF-SHA256 of `secret` (the gateway token). */
export function createEnvSeal(secret: string): EnvSeal {
  const key = Buffer.from(hkdfSync('sha256', secret, 'kiln-kernel-records', 'env', 32));
  const digestKey = Buffer.from(hkdfSync('sha256', secret, 'kiln-kernel-records', 'digest', 32));
  return {
    digest: (text) => createHmac('sha256', digestKey).update(text).digest('hex'),
    seal(env, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      // Bound to its kernel: a sealed env copied into another kernel's record does not open there.
      cipher.setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(JSON.stringify(env), 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
    },
    open(sealed, context) {
      const bytes = Buffer.from(sealed, 'base64');
      if (bytes.length < IV_BYTES + TAG_BYTES) throw new Error('sealed environment is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const text = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
      const env = JSON.parse(text.toString('utf8')) as unknown;
      if (typeof env !== 'object' || env === null || Array.isArray(env))
        throw new Error('sealed environment is not an object');
      return Object.fromEntries(
        Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
      );
    },
  };
}
