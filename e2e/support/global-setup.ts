import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildWheel, servePackageIndex } from '../../apps/kernel-gateway/test/package-index.ts';
import { createDatabase, freePort, startNode, waitForHttp } from './processes.ts';

// Generous: the first kernel snapshot and a cold Next.js server take minutes on a loaded 2-core machine.
const startupTimeoutMs = 300_000;

/** A fresh migrated database and the built web app on a free port, torn down after the run. */
export default async function globalSetup(): Promise<() => Promise<void>> {
  // A clone of the migrated template the integration tests use: applying every migration again here took
  // minutes on a loaded machine.
  const database = await createDatabase();
  const databaseUrl = database.url;

  // The real kernel gateway over runsc sandboxes, with a state dir of this run's own: a fixed name would be
  // shared by every clone on the machine, and one run's gateway would reap another's sandboxes.
  const gatewayState = await mkdtemp(path.join(tmpdir(), 'kiln-e2e-gateway-'));
  const gatewayToken = randomBytes(24).toString('hex');
  const gatewayPort = await freePort();
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  // The Python package index image builds install from: one wheel, served on loopback by this process.
  const wheels = await mkdtemp(path.join(tmpdir(), 'kiln-e2e-wheels-'));
  buildWheel(wheels, {
    name: 'kiln-e2e-probe',
    version: '1.0',
    module: 'kiln_e2e_probe',
    source: "GREETING = 'hello from a workspace image'\n",
  });
  const packageIndex = await servePackageIndex(wheels);
  // A scheduler node with a small declared size, so a test can fill it and watch a kernel queue.
  const gateway = startNode('apps/kernel-gateway/src/main.ts', {
    PORT: String(gatewayPort),
    HOST: '127.0.0.1',
    KILN_GATEWAY_TOKEN: gatewayToken,
    KILN_STATE_DIR: gatewayState,
    KILN_WARM_POOL_SIZE: '1',
    DATABASE_URL: databaseUrl,
    KILN_NODE_ID: 'e2e-node',
    // Memory is the dimension the queue test fills (other tests' kernels take 2 GiB each).
    KILN_NODE_CPU: '16',
    KILN_NODE_MEMORY_MIB: String(60 * 1024),
    KILN_GPUS: 'none',
    KILN_HEARTBEAT_SECONDS: '2',
    KILN_PIP_INDEX_URL: packageIndex.url,
    // This run's images go with its state dir (a shared cache would make the second run's build instant).
    KILN_WORKSPACE_IMAGES_DIR: path.join(gatewayState, 'images'),
  });
  await waitForHttp(`${gatewayUrl}/api`, gateway, startupTimeoutMs);

  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  // Kiln's local Stripe (Checkout is a page of it), delivering signed webhooks to the web app.
  const stripePort = await freePort();
  const stripeUrl = `http://127.0.0.1:${stripePort}`;
  const webhookSecret = `whsec_e2e${randomBytes(12).toString('hex')}`;
  const stripe = startNode('packages/stripe-local/src/cli.ts', {
    STRIPE_LOCAL_PORT: String(stripePort),
    KILN_WEBHOOK_URL: `${baseUrl}/api/stripe/webhook`,
    STRIPE_WEBHOOK_SECRET: webhookSecret,
  });
  await waitForHttp(`${stripeUrl}/v1/customers`, stripe, startupTimeoutMs);

  const web = startNode('apps/web/src/server.ts', {
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    HOST: '127.0.0.1',
    APP_URL: baseUrl,
    // The tests make many unrelated accounts; sign-up by invitation has its own tests.
    KILN_SIGN_UP: 'open',
    // Kernels are placed through the scheduler; the file browser talks to the node holding the volumes.
    KERNEL_GATEWAY_URL: gatewayUrl,
    KILN_GATEWAY_TOKEN: gatewayToken,
    KILN_SECRETS_KEY: randomBytes(32).toString('base64'),
    KILN_NODE_TIMEOUT_SECONDS: '10',
    // Short enough for the queue test to watch a wait run out.
    KILN_QUEUE_TIMEOUT_SECONDS: '25',
    // Schedule ticks are looked for every 2 s, so a test sees a run soon after its tick.
    KILN_SCHEDULE_INTERVAL_SECONDS: '2',
    // Automatic history a test can watch: a version once edits pause for 2 s.
    KILN_HISTORY_IDLE_SECONDS: '2',
    KILN_HISTORY_INTERVAL_SECONDS: '30',
    STRIPE_API_URL: stripeUrl,
    STRIPE_WEBHOOK_SECRET: webhookSecret,
  });
  await waitForHttp(`${baseUrl}/sign-in`, web, startupTimeoutMs);
  process.env.KILN_E2E_BASE_URL = baseUrl;
  // For specs that set up what another web process would have written (a disk move's claim).
  process.env.KILN_E2E_DATABASE_URL = databaseUrl;

  return async () => {
    await web.stop();
    await stripe.stop();
    await gateway.stop();
    await rm(gatewayState, { recursive: true, force: true });
    await packageIndex.close();
    await rm(wheels, { recursive: true, force: true });
    await database.drop();
  };
}
