/** Header the custom server sets on every request so route handlers can see the caller's address. */
export const CLIENT_IP_HEADER = 'x-kiln-client-ip';

/** The caller's address: the socket's, or the first X-Forwarded-For hop when a trusted proxy sits in front. */
export function clientIp(
  socketAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
  trustProxy: boolean,
): string {
  const forwarded = Array.isArray(forwardedFor) ? forwardedFor[0] : forwardedFor;
  const first = forwarded?.split(',')[0]?.trim();
  const ip = trustProxy && first ? first : (socketAddress ?? 'unknown');
  // Node reports IPv4 peers on a dual-stack socket as ::ffff:a.b.c.d.
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
