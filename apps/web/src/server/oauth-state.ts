import { safeNextPath } from '../lib/safe-next.ts';

/** Packs the OAuth state and the page to return to into one short-lived cookie value. */
export function packOAuthState(state: string, next: string): string {
  return `${state} ${safeNextPath(next)}`;
}

/** The destination when `returnedState` matches the cookie, else null (a forged or stale callback). */
export function checkOAuthState(
  cookieValue: string | null,
  returnedState: string | null,
): { next: string } | null {
  if (!cookieValue || !returnedState) return null;
  const space = cookieValue.indexOf(' ');
  const state = space === -1 ? cookieValue : cookieValue.slice(0, space);
  if (state.length === 0 || state !== returnedState) return null;
  return { next: safeNextPath(space === -1 ? '/' : cookieValue.slice(space + 1)) };
}
