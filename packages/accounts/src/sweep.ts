import type { Db } from '@kiln/db';
import { SIGN_IN_LIMITS } from './rate-limit.ts';

/** How often the web server sweeps (a sweep is two DELETEs). */
export const SWEEP_INTERVAL_MS = 60 * 60 * 1000;

/**
 * Deletes expired sessions and sign-in failures older than the rate-limit window. Both are only
 * cleaned when touched otherwise (a session when its cookie comes back, failures when the same email
 * or IP fails again), so without a sweep every abandoned cookie and every guessed address stays.
 */
export async function sweepExpiredRecords(
  db: Db,
  now = new Date(),
): Promise<{ sessions: number; loginAttempts: number }> {
  const [sessions, loginAttempts] = await db.$transaction([
    db.session.deleteMany({ where: { expiresAt: { lte: now } } }),
    db.loginAttempt.deleteMany({
      where: { createdAt: { lt: new Date(now.getTime() - SIGN_IN_LIMITS.windowMs) } },
    }),
  ]);
  return { sessions: sessions.count, loginAttempts: loginAttempts.count };
}
