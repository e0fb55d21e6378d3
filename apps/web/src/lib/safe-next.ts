/** Only same-site paths are allowed as a post-sign-in destination, so `?next=` cannot redirect off-site. */
export function safeNextPath(next: string | null | undefined, fallback = '/'): string {
  if (!next?.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return fallback;
  return next;
}
