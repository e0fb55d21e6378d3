const BASE = 'http://kiln.invalid';

/**
 * Only same-origin paths are allowed as a post-sign-in destination, so `?next=` cannot redirect
 * off-site. Browsers drop tabs and newlines from URLs and read `\` as `/`, so `/\t/evil` and `/\evil`
 * become `//evil`: any control character or backslash refuses the value outright, and what is left
 * must still resolve to this origin.
 */
export function safeNextPath(next: string | null | undefined, fallback = '/'): string {
  if (!next?.startsWith('/') || next.startsWith('//')) return fallback;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f\\]/.test(next)) return fallback;
  let url: URL;
  try {
    url = new URL(next, BASE);
  } catch {
    return fallback;
  }
  if (url.origin !== BASE) return fallback;
  return `${url.pathname}${url.search}${url.hash}`;
}
