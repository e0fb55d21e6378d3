import { createMemoryStore } from './memory-store.ts';
import type { Configuration } from './types.ts';

const DOCUMENT_PATH = /^\/yjs\/([A-Za-z0-9._:-]{1,200})\/?$/;

/** The defaults `createCollabServer` spreads the caller's options over. */
export function defaultConfiguration(): Configuration {
  return {
    store: createMemoryStore(),
    documentName: (request) => {
      const path = (request.url ?? '').split('?')[0] ?? '';
      return DOCUMENT_PATH.exec(path)?.[1] ?? null;
    },
    // Closed by default: a server nobody configured lets nobody in.
    onAuthenticate: () => null,
    onLoadDocument: () => {},
    onChange: () => {},
    afterStore: () => {},
    onError: ({ documentName, error, stage }) => {
      console.error(`[collab] ${stage} failed${documentName ? ` for ${documentName}` : ''}:`, error);
    },
    maxMessageBytes: 10 * 1024 * 1024,
    compactAfterUpdates: 500,
    unloadDelayMs: 2000,
    pingIntervalMs: 30_000,
    maxPendingMessages: 100,
    maxBufferedBytes: 64 * 1024 * 1024,
  };
}
