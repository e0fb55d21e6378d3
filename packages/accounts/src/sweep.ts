import type { Db } from '@kiln/db';
import { SIGN_IN_LIMITS } from './rate-limit.ts';

/** How often the web server sweeps (a sweep is two DELETEs). */
export const SWEEP_INTERVAL_MS = 60 * 60 * 1000;

/**
 * Deletes expired sessions, expired unconfirmed sign-ups and sign-in throttle rows idle past their reset time. Both are only
 * cleaned when touched otherwise (a session when its cookie comes back, a throttle row when the same
 * email or IP tries again), so without a sweep every abandoned cookie and every guessed address stays.
 */
export async function sweepExpiredRecords(
  db: Db,
  now = new Date(),
): Promise<{ sessions: number; signInThrottles: number; pendingSignUps: number }> {
  const [sessions, signInThrottles, pendingSignUps] = await db.$transaction([
    db.session.deleteMany({ where: { expiresAt: { lte: now } } }),
    db.signInThrottle.deleteMany({
      where: { lastAttempt: { lt: new Date(now.getTime() - SIGN_IN_LIMITS.idleResetMs) } },
    }),
    // Unconfirmed sign-ups hold a password hash: they go once their link has expired.
    db.pendingSignUp.deleteMany({ where: { expiresAt: { lte: now } } }),
  ]);
  return {
    sessions: sessions.count,
    signInThrottles: signInThrottles.count,
    pendingSignUps: pendingSignUps.count,
  };
}
