import { createHash, randomBytes } from 'node:crypto';

/** Endpoint tokens look like `kep_<43 url-safe chars>`; the first 12 characters are shown in lists. */
export function newEndpointToken(): { token: string; prefix: string; hash: string } {
  const token = `kep_${randomBytes(32).toString('base64url')}`;
  return { token, prefix: token.slice(0, 12), hash: hashEndpointToken(token) };
}

export function hashEndpointToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
