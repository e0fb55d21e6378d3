import { createHmac } from 'node:crypto';

const BENCH_SECRET = 'bench-secret';

/** The token the kiln bench server accepts for `user` on `notebook` (a stand-in for a session cookie). */
export function benchToken(user: string, notebook: string): string {
  return `${user}.${createHmac('sha256', BENCH_SECRET).update(`${user}:${notebook}`).digest('base64url')}`;
}
