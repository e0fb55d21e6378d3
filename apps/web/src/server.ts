import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { SWEEP_INTERVAL_MS, sweepExpiredRecords } from '@kiln/accounts';
import { type Env, EnvError, getEnv } from './env.ts';
import { createAutoHistory } from './server/auto-history.ts';
import { startBillingLoop } from './server/billing-loop.ts';
import { CLIENT_IP_HEADER, clientIp } from './server/client-ip.ts';
import { createNotebookCollab, setCollab } from './server/collab.ts';
import { closeDb, getDb } from './server/db.ts';
import { createNotebookServices } from './server/notebook-services.ts';
import { setNotebookServices } from './server/notebook-services-slot.ts';
import { createWebSchedules } from './server/schedules.ts';
import { createSecretsFromEnv } from './server/secrets.ts';
import { getMailer } from './server/services.ts';
import { getStripeBilling } from './server/stripe.ts';
import { createTerminalProxy } from './server/terminal-proxy.ts';
import { createUpgradeRouter } from './server/upgrade-router.ts';
import { createWebScheduler } from './server/web-scheduler.ts';

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
  // Kiln does not phone home, in production either.
  processEnv.NEXT_TELEMETRY_DISABLED = '1';
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
  let kernelLost = (_notebookId: string, _kernelId: string, _reason: string) => {};
  const scheduling = createWebScheduler(getDb(), env.scheduler, (...lost) => kernelLost(...lost));
  const notebookServices = createNotebookServices(getDb(), collab, env.kernelGateway, scheduling.scheduler);
  kernelLost = (notebookId, kernelId, reason) =>
    notebookServices.executionService?.kernelLost(notebookId, kernelId, reason);
  const locate = async (workspaceId: string, kernelId: string) => {
    const container = await scheduling.scheduler.get(kernelId).catch(() => null);
    return container?.workspaceId === workspaceId && container.state === 'running'
      ? (container.node?.url ?? null)
      : null;
  };
  const terminals = createTerminalProxy({
    db: getDb(),
    appUrl: env.appUrl,
    gateway: env.kernelGateway ? { ...env.kernelGateway, locate } : null,
  });
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
    // Sockets authenticate once, at upgrade: those of an ended session would outlive it otherwise.
    onSessionsEnded({ userId }) {
      collab.disconnectUser(userId);
      terminals.disconnectUser(userId);
    },
  });
  // Kernels of the previous process run on in the gateway: take them over (in the background, the
  // gateway may be restarting too). Each notebook whose kernel is gone says so itself.
  void notebookServices.executionService?.resume().then(
    (results) => {
      const count = (outcome: string) => results.filter((r) => r.outcome === outcome).length;
      if (results.length > 0) {
        console.log(
          `kernels of the previous process: ${count('attached')} re-attached, ${count('gone')} gone, ${count('unreachable')} unreachable`,
        );
      }
    },
    (error: unknown) => console.error('re-attaching to running kernels failed', error),
  );
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
  const billing = startBillingLoop({
    db: getDb(),
    mailer: getMailer(),
    appUrl: env.appUrl,
    stripe: getStripeBilling(),
  });

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: shutting down`);
    clearInterval(sweeper);
    await billing.close();
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    const closed = new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    // Websockets would hold server.close open; the rooms store pending edits before they go.
    terminals.close();
    // Runs in flight finish and are recorded before this process lets go of their kernels.
    await runner?.stop();
    // Kernels keep running in the gateway (the next process re-attaches); what they wrote so far
    // reaches the documents before the rooms close.
    await notebookServices.executionService?.detach();
    await scheduling.close();
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
