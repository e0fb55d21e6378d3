import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStripeBilling, createStripeClient } from '@kiln/billing';
import { type CollabServer, createCollabServer, createMemoryStore } from '@kiln/collab';
import type { Db } from '@kiln/db';
import {
  createEndpointRuntime,
  type EndpointRuntime,
  runscPython,
  unavailableReplicaHost,
} from '@kiln/endpoints';
import { createSchedules } from '@kiln/schedules';
import { createKeyring, createSecretsVault, generateSecretsKey, parseSecretsKey } from '@kiln/secrets';
import { type StripeLocal, startStripeLocal } from '@kiln/stripe-local';
import type { NotebookExecution, NotebookServices } from '../src/services.ts';

type ExecutionCall = { method: keyof NotebookExecution; notebookId: string; args: unknown };

/**
 * Stands in for @kiln/execution's service (which needs a kernel gateway) and records what the API
 * asked of it, so tests can check that each procedure reaches the service with the right request.
 */
export class RecordingExecution implements NotebookExecution {
  readonly calls: ExecutionCall[] = [];

  async run(request: Parameters<NotebookExecution['run']>[0]) {
    this.calls.push({ method: 'run', notebookId: request.notebookId, args: request });
    const cellIds = request.target.kind === 'cells' ? request.target.cellIds : [];
    return { requestId: `request-${this.calls.length}`, cellIds };
  }

  async interrupt(notebookId: string) {
    this.calls.push({ method: 'interrupt', notebookId, args: null });
  }

  async restart(notebookId: string) {
    this.calls.push({ method: 'restart', notebookId, args: null });
  }

  async shutdown(notebookId: string) {
    this.calls.push({ method: 'shutdown', notebookId, args: null });
  }

  async complete(notebookId: string, code: string, cursorPos: number) {
    this.calls.push({ method: 'complete', notebookId, args: { code, cursorPos } });
    return { matches: ['path'], cursorStart: Math.max(0, cursorPos - 2), cursorEnd: cursorPos, metadata: {} };
  }

  async inspect(notebookId: string, code: string, cursorPos: number, detailLevel: 0 | 1) {
    this.calls.push({ method: 'inspect', notebookId, args: { code, cursorPos, detailLevel } });
    return { found: true, data: { 'text/plain': 'Return the number of items in a container.' } };
  }

  async answerInput(notebookId: string, value: string) {
    this.calls.push({ method: 'answerInput', notebookId, args: value });
  }

  state(_notebookId: string) {
    return null;
  }

  async cancelStart(notebookId: string) {
    this.calls.push({ method: 'cancelStart', notebookId, args: null });
    return false;
  }
}

export interface TestServices {
  services: NotebookServices;
  collab: CollabServer;
  execution: RecordingExecution;
  close(): Promise<void>;
}

/**
 * A real collab server (in-memory store) for `documents`, and a recording execution service; with
 * `db`, a real secrets vault under a fresh key and real schedules too.
 */
export function createTestServices(collab?: CollabServer, options: { db?: Db } = {}): TestServices {
  const server =
    collab ??
    createCollabServer({
      store: createMemoryStore(),
      unloadDelayMs: 0,
      onError: () => {},
      // The web app checks the session cookie here; these tests are about what the API writes.
      onAuthenticate: () => ({ userId: 'tester', name: 'Tester', readOnly: false }),
    });
  const execution = new RecordingExecution();
  // Real dependency capture (runsc); no gateway here, so a deploy's smoke test fails to start.
  const endpointRuntime = options.db
    ? createEndpointRuntime({
        db: options.db,
        host: unavailableReplicaHost('These API tests run no kernel gateway'),
      })
    : undefined;
  // The local Stripe server, started on first use (most tests never pay).
  let local: Promise<StripeLocal> | null = null;
  const stripeBilling = () => {
    local ??= startStripeLocal();
    return local.then((server) => createStripeBilling(createStripeClient({ localUrl: server.url })));
  };
  let billing: ReturnType<typeof createStripeBilling> | null = null;
  const lazy = async () => {
    billing ??= await stripeBilling();
    return billing;
  };
  return {
    services: {
      documents: { open: (notebookId) => server.openDirectConnection(notebookId) },
      execution,
      ...(options.db
        ? {
            secrets: createSecretsVault({
              db: options.db,
              keyring: createKeyring(parseSecretsKey(generateSecretsKey())),
            }),
            schedules: createSchedules({ db: options.db }),
            endpoints: {
              runtime: endpointRuntime as EndpointRuntime,
              capture: runscPython({ rootDir: mkdtempSync(join(tmpdir(), 'kiln-api-capture-')) }),
            },
          }
        : {}),
      billing: {
        get stripe() {
          if (!billing) throw new Error('the local Stripe server is not started yet');
          return billing.stripe;
        },
        catalog: async (db) => (await lazy()).catalog(db),
        checkoutUrl: async (db, workspaceId, urls) => (await lazy()).checkoutUrl(db, workspaceId, urls),
        portalUrl: async (db, workspaceId, returnUrl) => (await lazy()).portalUrl(db, workspaceId, returnUrl),
      },
    },
    collab: server,
    execution,
    async close() {
      await endpointRuntime?.close();
      await server.close();
      await (await local)?.close();
    },
  };
}
