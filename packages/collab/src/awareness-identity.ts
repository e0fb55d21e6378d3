import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import type { CollabUser } from './types.ts';

/**
 * Rewrites a client's awareness update so presence tells the truth: every state's `user.userId` and
 * `user.name` become those the server authenticated (a viewer cannot appear as the owner), and
 * entries for client ids another connection controls are dropped (no overwriting someone else's
 * cursor or removing them from the room). `color` and other fields stay the client's own.
 * Returns null when nothing is left. The format is y-protocols' awareness update: a count, then
 * per client its id, clock and state as JSON ("null" for a removal).
 */
export function bindAwarenessUpdate(
  update: Uint8Array,
  user: CollabUser,
  ownedByAnother: (clientId: number) => boolean,
): Uint8Array | null {
  const decoder = decoding.createDecoder(update);
  const count = decoding.readVarUint(decoder);
  const entries: { clientId: number; clock: number; state: string }[] = [];
  for (let i = 0; i < count; i++) {
    const clientId = decoding.readVarUint(decoder);
    const clock = decoding.readVarUint(decoder);
    const json = decoding.readVarString(decoder);
    if (ownedByAnother(clientId)) continue;
    entries.push({ clientId, clock, state: bindState(json, user) });
  }
  if (entries.length === 0) return null;
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, entries.length);
  for (const entry of entries) {
    encoding.writeVarUint(encoder, entry.clientId);
    encoding.writeVarUint(encoder, entry.clock);
    encoding.writeVarString(encoder, entry.state);
  }
  return encoding.toUint8Array(encoder);
}

function bindState(json: string, user: CollabUser): string {
  const state = JSON.parse(json) as unknown;
  if (state === null) return 'null';
  if (typeof state !== 'object' || Array.isArray(state)) return JSON.stringify({});
  const record = state as Record<string, unknown>;
  const claimed = record.user;
  const own = typeof claimed === 'object' && claimed !== null && !Array.isArray(claimed) ? claimed : {};
  return JSON.stringify({ ...record, user: { ...own, userId: user.userId, name: user.name } });
}
