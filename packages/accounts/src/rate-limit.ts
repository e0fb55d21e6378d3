import { DomainError } from '@kiln/core';
import type { Db } from '@kiln/db';

/** Sign-in failure limits: counted per email and per client IP over a sliding window. */
export const SIGN_IN_LIMITS = {
  windowMs: 15 * 60 * 1000,
  perEmail: 5,
  perIp: 20,
};

function keys(email: string, ip: string) {
  return { emailKey: `email:${email.toLowerCase()}`, ipKey: `ip:${ip}` };
}

/** Throws RATE_LIMITED when either the email or the IP has too many recent failures. */
export async function assertSignInAllowed(
  db: Db,
  input: { email: string; ip: string },
  now = new Date(),
): Promise<void> {
  const { emailKey, ipKey } = keys(input.email, input.ip);
  const since = new Date(now.getTime() - SIGN_IN_LIMITS.windowMs);
  const [byEmail, byIp] = await Promise.all([
    db.loginAttempt.count({ where: { key: emailKey, createdAt: { gt: since } } }),
    db.loginAttempt.count({ where: { key: ipKey, createdAt: { gt: since } } }),
  ]);
  if (byEmail >= SIGN_IN_LIMITS.perEmail || byIp >= SIGN_IN_LIMITS.perIp) {
    throw new DomainError('RATE_LIMITED', 'Too many failed sign-in attempts. Wait 15 minutes and try again.');
  }
}

/** Counts one failed sign-in against both the email and the IP, and drops rows past the window. */
export async function recordSignInFailure(
  db: Db,
  input: { email: string; ip: string },
  now = new Date(),
): Promise<void> {
  const { emailKey, ipKey } = keys(input.email, input.ip);
  const before = new Date(now.getTime() - SIGN_IN_LIMITS.windowMs);
  await db.$transaction([
    db.loginAttempt.deleteMany({ where: { key: { in: [emailKey, ipKey] }, createdAt: { lt: before } } }),
    db.loginAttempt.createMany({
      data: [
        { key: emailKey, createdAt: now },
        { key: ipKey, createdAt: now },
      ],
    }),
  ]);
}

/** Forgets the email's failures after a successful sign-in; the IP count stays. */
export async function clearSignInFailures(db: Db, email: string): Promise<void> {
  await db.loginAttempt.deleteMany({ where: { key: `email:${email.toLowerCase()}` } });
}
