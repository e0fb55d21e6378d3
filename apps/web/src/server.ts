import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { SWEEP_INTERVAL_MS, sweepExpiredRecords } from '@kiln/accounts';
import { createWebProcessLease, type ResumeResult, startKernelTakeover } from '@kiln/execution';
import { type Env, EnvError, getEnv } from './env.ts';
import { createAutoHistory } from './server/auto-history.ts';
import { startBillingLoop } from './server/billing-loop.ts';
import { CLIENT_IP_HEADER, clientIp } from './server/client-ip.ts';
import { createNotebookCollab, setCollab } from './server/collab.ts';
import { closeDb, getDb } from './server/db.ts';
import { createWebEndpoints } from './server/endpoints.ts';
import { createWebImages } from './server/images.ts';
import { createIpynbReader } from './server/ipynb-reader/reader-pool.ts';
import { createKernelAway, kernelAwayReason } from './server/kernel-away.ts';
import { createLostKernels } from './server/lost-kernels.ts';
import { createNotebookServices } from './server/notebook-services.ts';
import { setNotebookServices } from './server/notebook-services-slot.ts';
import { createWebSchedules } from './server/schedules.ts';
import { createSecretsFromEnv } from './server/secrets.ts';
import { getMailer } from './server/services.ts';
import { getStripeBilling } from './server/stripe.ts';
import { createTerminalProxy } from './server/terminal-proxy.ts';
import { createUpgradeRouter } from './server/upgrade-router.ts';
import { getVolumeDisks, getVolumes, setVolumeScheduler } from './server/volumes.ts';
import { createWebScheduler } from './server/web-scheduler.ts';

/** How often deleted volumes still waiting for their node (or their kernels) are tried again. */
const VOLUME_REAP_INTERVAL_MS = 30_000;

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
  setVolumeScheduler(scheduling.scheduler);
  const notebookServices = createNotebookServices(
    getDb(),
    collab,
    env.kernelGateway,
    scheduling.scheduler,
    env.webProcessId,
    createKernelAway(scheduling.scheduler, env.scheduler.lostGiveUpMs),
  );
  // This process's lease: while it heartbeats, no other web process takes over the kernels it drives.
  const lease = createWebProcessLease(getDb(), {
    id: env.webProcessId,
    onError: (error) => console.error('renewing this web process lease failed', error),
  });
  await lease.start();
  // A lost node may come back with its kernels (a gateway restart slower than the node timeout): the
  // notebook keeps its kernel, says it is waiting, and connects again once the scheduler revives it.
  const lostKernels = createLostKernels({
    scheduler: scheduling.scheduler,
    intervalMs: Math.max(500, Math.min(5000, env.scheduler.heartbeatTimeoutMs / 3)),
    onBack: (notebookId, kernelId) => notebookServices.executionService?.kernelBack(notebookId, kernelId),
    onGone: (notebookId, kernelId, reason) =>
      notebookServices.executionService?.kernelLost(notebookId, kernelId, reason),
  });
  kernelLost = (notebookId, kernelId, reason) => {
    const away = kernelAwayReason(reason, env.scheduler.lostGiveUpMs);
    if (notebookServices.executionService?.kernelAway(notebookId, kernelId, away)) {
      lostKernels.add(notebookId, kernelId);
    }
  };
  /** Kernels resumed while their machine is lost (the scheduler's database says so): watch for them too. */
  const watchAway = (results: ResumeResult[]) => {
    for (const result of results) {
      if (result.outcome === 'away' && result.kernelId) lostKernels.add(result.notebookId, result.kernelId);
    }
  };
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
  const endpoints = createWebEndpoints(getDb(), scheduling.scheduler, env, {
    secrets,
    volumes: getVolumes(),
  });
  const { schedules, runner } = createWebSchedules(
    getDb(),
    notebookServices,
    endpoints.services.runtime,
    secrets,
    env.scheduleIntervalMs,
  );
  // As many threads as imports may run at once (the API's import gate lets two through).
  const ipynbReader = createIpynbReader({ workers: 2 });
  setNotebookServices({
    ...notebookServices,
    secrets,
    schedules,
    images: createWebImages(getDb(), env.kernelGateway, scheduling.scheduler),
    ipynbReader,
    endpoints: endpoints.services,
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
      watchAway(results);
      const count = (outcome: string) => results.filter((r) => r.outcome === outcome).length;
      if (results.length > 0) {
        console.log(
          `kernels of the previous process: ${count('attached')} re-attached, ${count('gone')} gone, ${count('unreachable')} unreachable, ${count('away')} waiting for their machine`,
        );
      }
    },
    (error: unknown) => console.error('re-attaching to running kernels failed', error),
  );
  // Kernels of another web process that dies while this one runs are taken over once its lease runs
  // out (a third of the lease's time between looks), as a restart would.
  const takeover = notebookServices.executionService
    ? startKernelTakeover(notebookServices.executionService, {
        intervalMs: 10_000,
        onTakenOver: (results) => {
          watchAway(results);
          console.log(
            `took over ${results.length} kernels of a web process that stopped answering: ${results.filter((r) => r.outcome === 'attached').length} re-attached`,
          );
        },
        onError: (error) => console.error('taking over kernels of a dead web process failed', error),
      })
    : null;
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
    const fail = (error: unknown) => {
      console.error('request failed', error);
      if (!res.headersSent) res.statusCode = 500;
      res.end();
    };
    // Endpoint calls (/e/<workspace>/<label>) skip Next entirely: they are API traffic, not pages.
    endpoints.handler(req, res).then((handled) => {
      if (!handled) handle(req, res).catch(fail);
    }, fail);
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
  // Deleted volumes whose node was offline, or still mounted by a kernel, are erased once they can be.
  const reaper = setInterval(() => {
    void getVolumeDisks()
      ?.reapAll()
      .catch((error: unknown) => console.error('erasing deleted volumes failed', error));
  }, VOLUME_REAP_INTERVAL_MS);
  reaper.unref();
  const billing = startBillingLoop({
    db: getDb(),
    mailer: getMailer(),
    appUrl: env.appUrl,
    stripe: getStripeBilling(),
    // At a cap, kernels pause with their variables kept; endpoint replicas (stateless) stop.
    hibernate: async (containerId, reason) => {
      if (await endpoints.services.runtime.stopReplica(containerId, reason)) return;
      await notebookServices.pauseKernel?.(containerId, reason);
    },
  });

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: shutting down`);
    clearInterval(sweeper);
    clearInterval(reaper);
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
    await takeover?.stop();
    // Kernels keep running in the gateway (the next process re-attaches); what they wrote so far
    // reaches the documents before the rooms close.
    await notebookServices.executionService?.detach();
    // Replicas belong to this process (their pools live here): stop them and give their room back.
    await endpoints.close();
    // Its kernels are now anyone's to resume: this process again, or another one starting.
    await lease.stop({ release: true }).catch(() => undefined);
    await lostKernels.close();
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
