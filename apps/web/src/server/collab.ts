import { type CollabServer, type Configuration, createCollabServer, isClientOrigin } from '@kiln/collab';
import { createPostgresStore } from '@kiln/collab/postgres';
import { DomainError } from '@kiln/core';
import { type Db, isDatabaseUnavailable } from '@kiln/db';
import { readExecutionState, resetExecutionState } from '@kiln/execution';
import { createNotebookDoc, insertCell } from '@kiln/notebook';
import { createCauseLog } from './cause-log.ts';
import { guardExecutionState } from './execution-state-guard.ts';
import { authorizeNotebookSocket } from './notebook-access.ts';

export interface NotebookCollabOptions {
  db: Db;
  /** The public URL; websocket handshakes from any other origin are refused. */
  appUrl: string;
  /** Overrides for tests (timeouts, error reporting). */
  configuration?: Partial<Configuration>;
  /** Called after people (not the server) changed a notebook; the automatic history listens. */
  onEdit?(notebookId: string): void;
}

/** The notebooks' Yjs rooms at `/yjs/<notebookId>`, stored in Postgres, open to workspace members. */
export function createNotebookCollab(options: NotebookCollabOptions): CollabServer {
  const { db, appUrl } = options;
  const logCause = createCauseLog();
  return createCollabServer({
    store: createPostgresStore(db),
    async onAuthenticate({ request, documentName }) {
      try {
        const access = await authorizeNotebookSocket(db, request, documentName, { appUrl });
        return { userId: access.userId, name: access.name, readOnly: access.role === 'VIEWER' };
      } catch (error) {
        if (!isDatabaseUnavailable(error)) throw error;
        // Refused with tryAgainLater: the client backs off and keeps its edits.
        logCause('notebook connections refused', error);
        throw new DomainError('SERVICE_UNAVAILABLE', 'The database is unavailable; try again shortly');
      }
    },
    onError({ error, stage }) {
      logCause(`collab ${stage} failed`, error);
    },
    // A notebook never written gets its schema and one empty cell here, once, on the server: two
    // editors opening it at the same moment would otherwise each add a first cell. A room loads only
    // when no execution service holds it (the service keeps its room open while it has a kernel),
    // so a queue stored by an earlier process is stale and is cleared.
    onLoadDocument({ document, isNew }) {
      guardExecutionState(document, isClientOrigin);
      if (!isNew) {
        if (readExecutionState(document)) resetExecutionState(document);
        return;
      }
      document.transact(() => {
        createNotebookDoc({
          doc: document,
          metadata: {
            kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' },
            language_info: { name: 'python' },
          },
        });
        insertCell(document, { cell_type: 'code', source: '' });
      });
    },
    onChange({ documentName, users }) {
      if (users.length > 0) options.onEdit?.(documentName);
    },
    ...options.configuration,
  });
}

// Next bundles route handlers apart from server.ts; the execution service reaches the rooms
// through this process-wide slot rather than a module variable that would exist twice.
const COLLAB_KEY = Symbol.for('kiln.web.collab');
type Holder = { [COLLAB_KEY]?: CollabServer };

/** Registers the process's collab server (server.ts does this once at start). */
export function setCollab(collab: CollabServer | undefined): void {
  (globalThis as Holder)[COLLAB_KEY] = collab;
}

/** The process's collab server, for server-side writers such as the execution queue. */
export function getCollab(): CollabServer {
  const collab = (globalThis as Holder)[COLLAB_KEY];
  if (!collab) throw new Error('The collab server is not running in this process');
  return collab;
}
