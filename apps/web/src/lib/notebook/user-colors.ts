/** Distinct colours readable on white, used for collaborators' cursors and avatars. */
export const USER_COLORS = [
  '#2563eb',
  '#c2410c',
  '#15803d',
  '#9333ea',
  '#db2777',
  '#0891b2',
  '#a16207',
  '#4f46e5',
  '#be123c',
  '#0f766e',
  '#7c3aed',
  '#b45309',
] as const;

/** A stable colour for a user: the same person keeps it across reloads and devices. */
export function colorForUser(userId: string): string {
  let hash = 2166136261;
  for (let i = 0; i < userId.length; i++) {
    hash ^= userId.charCodeAt(i);
    hash = Math.imul(hash, 16777619);
  }
  return USER_COLORS[(hash >>> 0) % USER_COLORS.length] as string;
}

/** One or two letters for an avatar ("Ada Lovelace" → "AL"). */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '?';
  const first = [...(words[0] as string)][0] ?? '';
  const last = words.length > 1 ? ([...(words.at(-1) as string)][0] ?? '') : '';
  return (first + last).toUpperCase();
}

/** Only `#rrggbb` colours reach the injected cursor CSS, whatever a remote peer sends. */
export function safeColor(color: unknown): string {
  return typeof color === 'string' && /^#[0-9a-f]{6}$/i.test(color) ? color : '#6b7280';
}
