/** Most calls one tRPC batch may carry; the web client's batch link never sends more. */
export const MAX_BATCH_CALLS = 20;

/**
 * Procedures that check a password or create credentials. Each must arrive alone: a batch would
 * run many guesses in one request and outrun per-request limits upstream of the sign-in throttle.
 */
export const CREDENTIAL_PROCEDURES: ReadonlySet<string> = new Set([
  'auth.signIn',
  'auth.signUp',
  'auth.confirmSignUp',
  'account.changePassword',
]);

/** Why a tRPC request URL must be refused before any procedure runs, or null when it may go on. */
export function batchRefusal(url: string): string | null {
  const { pathname } = new URL(url);
  const marker = '/api/trpc/';
  const at = pathname.indexOf(marker);
  if (at < 0) return null;
  let paths: string[];
  try {
    paths = decodeURIComponent(pathname.slice(at + marker.length)).split(',');
  } catch {
    return 'The request path is not valid';
  }
  if (paths.length > MAX_BATCH_CALLS) return `A batch may hold at most ${MAX_BATCH_CALLS} calls`;
  if (paths.length > 1 && paths.some((path) => CREDENTIAL_PROCEDURES.has(path))) {
    return 'Sign-in, sign-up and password changes cannot be batched; send each on its own';
  }
  return null;
}
