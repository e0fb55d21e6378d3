import type { Db } from '@kiln/db';
import { sha256 } from './tokens.ts';

/**
 * The invitation behind a link's `token` when it may still be used by `email` (already normalized):
 * sent to that address, neither accepted nor revoked, not expired. Null otherwise, whatever the reason.
 */
export async function findUsableInvitation(
  db: Db,
  token: string | undefined,
  email: string,
  now: Date,
): Promise<{ id: string } | null> {
  if (!token || token.length > 200) return null;
  const found = await db.invitation.findUnique({
    where: { tokenHash: sha256(token) },
    select: { id: true, email: true, revokedAt: true, acceptedAt: true, expiresAt: true },
  });
  if (!found || found.revokedAt || found.acceptedAt || found.expiresAt <= now || found.email !== email)
    return null;
  return { id: found.id };
}
