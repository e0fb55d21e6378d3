import * as Y from 'yjs';

/** Two docs kept in sync the way y-websocket peers are: every update of one is applied to the other. */
export function connectedPeers(a: Y.Doc, b: Y.Doc): { disconnect: () => void } {
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a), 'sync');
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b), 'sync');
  const toB = (update: Uint8Array, origin: unknown) => {
    if (origin !== 'sync') Y.applyUpdate(b, update, 'sync');
  };
  const toA = (update: Uint8Array, origin: unknown) => {
    if (origin !== 'sync') Y.applyUpdate(a, update, 'sync');
  };
  a.on('update', toB);
  b.on('update', toA);
  return {
    disconnect: () => {
      a.off('update', toB);
      b.off('update', toA);
    },
  };
}

/** Exchange everything two disconnected docs are missing from each other. */
export function syncPeers(a: Y.Doc, b: Y.Doc): void {
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)));
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)));
}

export function iopub(msgType: string, content: Record<string, unknown>) {
  return { header: { msg_type: msgType }, content };
}
