import type { Awareness } from 'y-protocols/awareness';
import { safeColor } from './user-colors.ts';

/** A collaborator connected to the notebook, as their awareness state says. */
export interface Peer {
  clientId: number;
  userId: string;
  name: string;
  color: string;
  /** The cell they have selected, if any. */
  cellId: string | null;
  self: boolean;
}

/** Collaborators from awareness states (this client first); states without a user are skipped. */
export function readPeers(awareness: Awareness): Peer[] {
  const peers: Peer[] = [];
  awareness.getStates().forEach((state, clientId) => {
    const user = state.user as { userId?: unknown; name?: unknown; color?: unknown } | undefined;
    if (!user || typeof user.name !== 'string') return;
    peers.push({
      clientId,
      userId: typeof user.userId === 'string' ? user.userId : String(clientId),
      name: user.name.slice(0, 80),
      color: safeColor(user.color),
      cellId: typeof state.cell === 'string' ? state.cell : null,
      self: clientId === awareness.clientID,
    });
  });
  return peers.sort((a, b) => Number(b.self) - Number(a.self) || a.name.localeCompare(b.name));
}

/** A CSS string literal for a name (quotes, backslashes and line breaks escaped). */
function cssString(text: string): string {
  return `"${text.replace(/[\\"]/g, '\\$&').replace(/[\r\n\f]/g, ' ')}"`;
}

/** The rules y-monaco's remote-selection classes need, in each collaborator's colour and name. */
export function remoteCursorCss(peers: readonly Peer[]): string {
  return peers
    .filter((peer) => !peer.self && Number.isInteger(peer.clientId))
    .map((peer) => {
      const id = peer.clientId;
      return [
        `.yRemoteSelection-${id} { background-color: ${peer.color}40; }`,
        `.yRemoteSelectionHead-${id} { position: absolute; height: 100%; box-sizing: border-box; border-left: 2px solid ${peer.color}; }`,
        // A small cap marks the cursor; the name shows on hover only, below the line, so it never
        // hides code while you read and is never clipped at the editor's top edge. The cell's gutter
        // names who is in the cell at all times.
        `.yRemoteSelectionHead-${id}::before { content: ""; position: absolute; top: -2px; left: -4px; width: 6px; height: 4px; border-radius: 1px; background: ${peer.color}; }`,
        `.yRemoteSelectionHead-${id}::after { content: ${cssString(peer.name)}; position: absolute; top: 100%; left: -2px; z-index: 5; padding: 0 4px; font: 11px/1.4 var(--font); color: #fff; background: ${peer.color}; white-space: nowrap; border-radius: 0 3px 3px 3px; pointer-events: none; opacity: 0; transition: opacity 120ms; }`,
        `.yRemoteSelectionHead-${id}:hover::after { opacity: 1; }`,
      ].join('\n');
    })
    .join('\n');
}
