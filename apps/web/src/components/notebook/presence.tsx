'use client';
import { useEffect, useState } from 'react';
import type { Awareness } from 'y-protocols/awareness';
import { type Peer, readPeers, remoteCursorCss } from '../../lib/notebook/presence-model.ts';
import { initials } from '../../lib/notebook/user-colors.ts';

export type { Peer };

/** Everyone connected to the notebook (this tab first), updated as people come, go and move. */
export function usePeers(awareness: Awareness | null): Peer[] {
  const [peers, setPeers] = useState<Peer[]>([]);
  useEffect(() => {
    if (!awareness) return;
    const update = () => setPeers(readPeers(awareness));
    update();
    awareness.on('change', update);
    return () => awareness.off('change', update);
  }, [awareness]);
  return peers;
}

/** Injects the remote cursor rules; textContent on a <style> is never parsed as markup. */
export function RemoteCursorStyles({ peers }: { peers: readonly Peer[] }) {
  const css = remoteCursorCss(peers);
  return <style data-kiln="remote-cursors">{css}</style>;
}

/** Avatars of everyone here; the same person in two tabs shows once. */
export function PresenceAvatars({ peers }: { peers: readonly Peer[] }) {
  const people = new Map<string, Peer>();
  for (const peer of peers) if (!people.has(peer.userId)) people.set(peer.userId, peer);
  const list = [...people.values()];
  return (
    <ul className="presence" aria-label="People in this notebook">
      {list.map((peer) => (
        <li
          key={peer.userId}
          className="avatar"
          style={{ background: peer.color }}
          title={peer.self ? `${peer.name} (you)` : peer.name}
          aria-label={peer.self ? `${peer.name} (you)` : peer.name}
        >
          {initials(peer.name)}
        </li>
      ))}
    </ul>
  );
}
