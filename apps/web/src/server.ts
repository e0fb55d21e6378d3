import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { SWEEP_INTERVAL_MS, sweepExpiredRecords } from '@kiln/accounts';
import { type Env, EnvError, getEnv } from './env.ts';
import { createAutoHistory } from './server/auto-history.ts';
import { CLIENT_IP_HEADER, clientIp } from './server/client-ip.ts';
import { createNotebookCollab, setCollab } from './server/collab.ts';
import { closeDb, getDb } from './server/db.ts';
import { createNotebookServices } from './server/notebook-services.ts';
import { setNotebookServices } from './server/notebook-services-slot.ts';
import { createWebSchedules } from './server/schedules.ts';
import { createSecretsFromEnv } from './server/secrets.ts';
import { createTerminalProxy } from './server/terminal-proxy.ts';
import { createUpgradeRouter } from './server/upgrade-router.ts';

/** Kiln's web process: Next's request handler plus the websocket upgrades the app owns. */
async function main(): Promise<void> {
  let env: Env;
  try {
    env = getEnv();
  } catch (error) {
    if (error instanceof EnvError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  // Next's types mark NODE_ENV read-only; a custom server is where it legitimately gets its default.
  const processEnv = process.env as Record<string, string | undefined>;
  processEnv.NODE_ENV ??= 'production';
  const dev = processEnv.NODE_ENV === 'development';

  // Imported after NODE_ENV is settled: Next reads it while loading.
  const { default: next } = await import('next');
  const dir = fileURLToPath(new URL('..', import.meta.url));
  // Fail at start, not at the first request, when the database URL is unusable.
  await getDb().$connect();
  const upgrades = createUpgradeRouter();
  let noteEdit = (_notebookId: string) => {};
  const collab = createNotebookCollab({ db: getDb(), appUrl: env.appUrl, onEdit: (id) => noteEdit(id) });
  setCollab(collab);
  const history = createAutoHistory({
    db: getDb(),
    documents: { open: (notebookId) => collab.openDirectConnection(notebookId) },
    ...env.history,
    onError: (error, notebookId) => console.error(`automatic version of ${notebookId} failed`, error),
  });
  noteEdit = (id) => history.noteEdit(id);
  const terminals = createTerminalProxy({ db: getDb(), appUrl: env.appUrl, gateway: env.kernelGateway });
  const notebookServices = createNotebookServices(getDb(), collab, env.kernelGateway);
  const secrets = await createSecretsFromEnv(getDb(), env.secrets);
  const { schedules, runner } = createWebSchedules(
    getDb(),
    notebookServices,
    secrets,
    env.scheduleIntervalMs,
  );
  setNotebookServices({
    ...notebookServices,
    secrets,
    schedules,
    onAccessChanged(change) {
      notebookServices.onAccessChanged(change);
      terminals.disconnectUser(change.userId);
    },
  });
  upgrades.route('/yjs', (req, socket, head) => collab.handleUpgrade(req, socket, head));
  upgrades.route('/terminals', (req, socket, head, rest) => terminals.handleUpgrade(req, socket, head, rest));

  const server = createServer();
  const app = next({ dev, dir, hostname: env.host, port: env.port, httpServer: server });
  const handle = app.getRequestHandler();
  await app.prepare();

  server.on('request', (req, res) => {
    // Overwrite whatever the client sent: this header is the only address route handlers trust.
    req.headers[CLIENT_IP_HEADER] = clientIp(
      req.socket.remoteAddress,
      req.headers['x-forwarded-for'],
      env.trustProxy,
    );
    handle(req, res).catch((error: unknown) => {
      console.error('request failed', error);
      if (!res.headersSent) res.statusCode = 500;
      res.end();
    });
  });
  server.on('upgrade', (req, socket, head) => upgrades.handle(req, socket, head));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(env.port, env.host, resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : env.port;
  console.log(`Kiln web listening on http://${env.host}:${port} (${env.appUrl})`);

  // Expired sessions and old sign-in failures are deleted now and hourly, not only when touched.
  const sweep = () =>
    sweepExpiredRecords(getDb()).catch((error: unknown) =>
      console.error('sweeping expired records failed', error),
    );
  void sweep();
  const sweeper = setInterval(sweep, SWEEP_INTERVAL_MS);
  sweeper.unref();

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: shutting down`);
    clearInterval(sweeper);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    const closed = new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    // Websockets would hold server.close open; the rooms store pending edits before they go.
    terminals.close();
    // Runs in flight finish and are recorded before their kernels go.
    await runner?.stop();
    // Kernels shut down and their last outputs reach the documents before the rooms close.
    await notebookServices.executionService?.dispose();
    setNotebookServices(undefined);
    await history.close();
    await collab.close();
    setCollab(undefined);
    await closed;
    await app.close();
    await closeDb();
    process.exit(0);
  };
  process.on('SIGTERM', (signal) => void stop(signal));
  process.on('SIGINT', (signal) => void stop(signal));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
