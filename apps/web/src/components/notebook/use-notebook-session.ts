'use client';
import { CloseCode } from '@kiln/core';
import { watchCellIdentity } from '@kiln/notebook';
import { useEffect, useRef, useState } from 'react';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { keepConnection, STORED_ACKS_PARAMS } from '../../lib/notebook/connection-keeper.ts';
import { colorForUser } from '../../lib/notebook/user-colors.ts';

export type ConnectionStatus =
  | 'connecting'
  | 'connected'
  | 'offline'
  | 'signed-out'
  | 'not-found'
  | 'forbidden';

export interface NotebookSession {
  doc: Y.Doc;
  provider: WebsocketProvider;
}

/** What a collaborator publishes in awareness (y-monaco adds `selection`). */
export interface PresenceUser {
  userId: string;
  name: string;
  color: string;
}

const FINAL: Record<number, ConnectionStatus> = {
  [CloseCode.unauthenticated]: 'signed-out',
  [CloseCode.notFound]: 'not-found',
  [CloseCode.forbidden]: 'forbidden',
};

/**
 * Opens the notebook's shared document over y-websocket, with this user's presence. `onAccessChanged`
 * runs when the server drops the connection because this user's role changed; the provider reconnects
 * by itself with the new rights, and the page should refetch what it shows about them.
 */
export function useNotebookSession(
  notebookId: string,
  user: { id: string; name: string },
  onAccessChanged?: () => void,
) {
  const accessChanged = useRef(onAccessChanged);
  accessChanged.current = onAccessChanged;
  const [session, setSession] = useState<NotebookSession | null>(null);
  const [status, setStatus] = useState<ConnectionStatus>('connecting');
  const [synced, setSynced] = useState(false);
  // Once the document synced, the editor stays: a dropped connection must not take it away.
  const [everSynced, setEverSynced] = useState(false);
  const [saved, setSaved] = useState(true);

  useEffect(() => {
    const doc = new Y.Doc();
    const stopIdentity = watchCellIdentity(doc);
    const url = `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}/yjs`;
    // Tabs share nothing behind the server's back: every update goes through its permission check.
    const provider = new WebsocketProvider(url, notebookId, doc, {
      disableBc: true,
      params: STORED_ACKS_PARAMS,
    });
    const keeper = keepConnection(provider, {
      finalCodes: new Set(Object.keys(FINAL).map(Number)),
      onSavedChange: setSaved,
    });
    const presence: PresenceUser = { userId: user.id, name: user.name, color: colorForUser(user.id) };
    provider.awareness.setLocalStateField('user', presence);
    provider.on('status', ({ status: next }: { status: string }) => {
      setStatus((current) => {
        if (current in { 'signed-out': 1, 'not-found': 1, forbidden: 1 }) return current;
        return next === 'connected' ? 'connected' : next === 'connecting' ? 'connecting' : 'offline';
      });
    });
    provider.on('sync', (isSynced: boolean) => {
      setSynced(isSynced);
      if (isSynced) setEverSynced(true);
    });
    provider.on('connection-close', (event: CloseEvent | null) => {
      if (event?.code === CloseCode.accessChanged) accessChanged.current?.();
      const final = event ? FINAL[event.code] : undefined;
      if (!final) return;
      // Retrying cannot help: the session ended or access was withdrawn.
      provider.shouldConnect = false;
      setStatus(final);
    });
    setSession({ doc, provider });
    return () => {
      stopIdentity();
      keeper.dispose();
      provider.destroy();
      doc.destroy();
      setSession(null);
      setSynced(false);
      setEverSynced(false);
      setSaved(true);
      setStatus('connecting');
    };
  }, [notebookId, user.id, user.name]);

  /** `saved`: every local edit is acknowledged as stored by the server (not merely sent). */
  return { session, status, synced, everSynced, saved };
}
