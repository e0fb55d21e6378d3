// Endpoints benchmark, one run, against peers: Kiln's /e/ proxy vs the same warm replica called directly
// over the gateway's kernel websocket, first response after scale to zero, and sustained requests per
// second against FastAPI on uvicorn (Debian's packages, no sandbox). `npx tsx bench/endpoints/run.ts`
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createGatewayClient, type KernelChannel, workspaceToken } from '@kiln/kernel-protocol/client';
import { root } from '../notebook/app.ts';
import { startFastApi } from './peer.ts';
import { startStack } from './stack.ts';

const loadBefore = loadavg();
const stack = await startStack();
const { db } = stack.database;
const suffix = randomBytes(3).toString('hex');
const ws = await db.workspace.create({ data: { name: 'bench', slug: `bench-${suffix}`, plan: 'TEAM' } });
const actor = { userId: null };
const machine = { public: true, cpu: 0.25, memoryMiB: 512 };
const SOURCE = 'def echo(x=0):\n    return x\n';
/** A module whose import is real work (scikit-learn and SciPy are not in the kernel snapshot's preload). */
const HEAVY_SOURCE = `import scipy.stats\nfrom sklearn.linear_model import LinearRegression\n\n${SOURCE}`;

async function endpoint(label: string, settings: Record<string, unknown>, source = SOURCE) {
  const created = await stack.runtime.store.create(ws.id, actor, {
    label,
    settings: { ...machine, ...settings },
  });
  const version = await stack.runtime.deploy(ws.id, created.id, actor, {
    functionName: 'echo',
    source,
    origin: { kind: 'function_file', fileId: '00000000-0000-4000-8000-000000000000' },
    dependencies: { imports: [], definitions: [], missing: [] },
    parameters: [],
    sampleInput: { x: 1 },
  });
  if (version.smoke.status !== 'passed') throw new Error(`deploy failed: ${version.smoke.error}`);
  return created;
}

/**
 * The load client: plain HTTP/1.1 with keep-alive, as an outside client (curl in a loop with one
 * connection, Python's requests.Session, a service's HTTP pool) calls either server. It runs in this
 * process, beside Kiln's server, so its CPU competes with Kiln's side only (uvicorn runs in processes of
 * its own): Node's fetch, used before, is a heavier client per call than a caller would bring.
 */
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const BODY = '{"x": 1}';
function post(url: string): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      {
        agent,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) },
      },
      (response: IncomingMessage) => {
        response.resume();
        response.on('end', () =>
          response.statusCode === 200
            ? resolve(performance.now() - started)
            : reject(new Error(`${url} answered ${response.statusCode}`)),
        );
      },
    );
    request.on('error', reject);
    request.end(BODY);
  });
}

/** One call on the replica's kernel websocket, as the runtime makes it (quiet), without the HTTP proxy. */
function direct(channel: KernelChannel): Promise<number> {
  const request = channel.message('shell', 'execute_request', {
    code: '__kiln_call("{\\"x\\": 1}")',
    silent: false,
    store_history: false,
    user_expressions: {},
    allow_stdin: false,
    stop_on_error: false,
  });
  request.metadata = { kiln_quiet: true };
  const started = performance.now();
  return new Promise((resolve) => {
    const off = channel.onMessage((message) => {
      if (message.parent_header.msg_id !== request.header.msg_id) return;
      if (message.header.msg_type === 'execute_reply') {
        off();
        resolve(performance.now() - started);
      }
    });
    channel.send(request);
  });
}

const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
const ms = (value: number) => `${value.toFixed(1)} ms`;

// 1. Proxy overhead: alternating blocks so drifting machine load hits both sides alike.
const warm = await endpoint('warm', { scaleDownSeconds: 3600 });
const warmUrl = `${stack.base}/e/${ws.slug}/warm`;
const [replica] = stack.runtime.replicas(warm.id);
if (!replica) throw new Error('no warm replica after deploy');
const node = (await stack.scheduler.get(replica.id)).node?.url as string;
const channel = await createGatewayClient({
  baseUrl: node,
  token: workspaceToken(stack.secret, ws.id),
}).connect(replica.id);
const proxied: number[] = [];
const directly: number[] = [];
for (let i = 0; i < 30; i++) await post(warmUrl);
for (let i = 0; i < 30; i++) await direct(channel);
for (let block = 0; block < 8; block++) {
  for (let i = 0; i < 40; i++) proxied.push(await post(warmUrl));
  for (let i = 0; i < 40; i++) directly.push(await direct(channel));
}
await channel.close();
const overhead = pct(proxied, 50) - pct(directly, 50);

// 2. First response after scale to zero: the trivial module, and one that imports scikit-learn (the
// replica restores the snapshot its gateway took after that import), against uvicorn started cold.
/** Module snapshots the gateway has finished for this workspace. */
function moduleSnapshots(): number {
  const dir = join(stack.stateDir, 'snapshots', 'modules', ws.id);
  if (!existsSync(dir)) return 0;
  return readdirSync(dir).filter((name) => existsSync(join(dir, name, 'complete'))).length;
}
async function wakeSamples(label: string, source: string) {
  const before = moduleSnapshots();
  const wake = await endpoint(label, { scaleDownSeconds: 1 }, source);
  // The steady state: the smoke test's start had the gateway build this module's snapshot (code already
  // seen, such as the trivial module the warm endpoint deployed, has one).
  const deadline = Date.now() + 300_000;
  while (source !== SOURCE && moduleSnapshots() === before) {
    if (Date.now() > deadline) throw new Error('no module snapshot within 5 minutes');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const url = `${stack.base}/e/${ws.slug}/${label}`;
  const samples: number[] = [];
  const origins: string[] = [];
  for (let i = 0; i < 5; i++) {
    const deadline = Date.now() + 120_000;
    while (
      (await stack.scheduler.list({ ownerId: wake.id, states: ['queued', 'starting', 'running'] })).length > 0
    ) {
      if (Date.now() > deadline) throw new Error('replicas did not scale to zero');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    samples.push(await post(url));
    origins.push(stack.runtime.replicas(wake.id)[0]?.startedFrom ?? '?');
  }
  return { samples, origins };
}
const { samples: cold, origins: coldOrigins } = await wakeSamples('wake', SOURCE);
const heavy = await wakeSamples('wake-sklearn', HEAVY_SOURCE);
const heavyPeer: number[] = [];
for (let i = 0; i < 5; i++) {
  const peer = await startFastApi(1, HEAVY_SOURCE);
  heavyPeer.push(peer.firstAnswerMs);
  await peer.close();
}

// 3. Sustained requests per second, 8 callers, against FastAPI on uvicorn.
async function throughput(url: string, seconds: number, callers = 8): Promise<number> {
  let done = 0;
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < until) {
        await post(url);
        done++;
      }
    }),
  );
  return done / seconds;
}
const busy = await endpoint('busy', { maxReplicas: 4, scaleDownSeconds: 600 });
const busyUrl = `${stack.base}/e/${ws.slug}/busy`;
await throughput(busyUrl, 5);
const replicasUsed = stack.runtime.replicas(busy.id).length;
const kilnRps = await throughput(busyUrl, 10);
// The same with two concurrent calls per replica: the next call waits in the replica, not in the pool.
const paired = await endpoint('busy-2', { maxReplicas: 4, scaleDownSeconds: 600, targetConcurrency: 2 });
const pairedUrl = `${stack.base}/e/${ws.slug}/busy-2`;
await throughput(pairedUrl, 5);
const pairedReplicas = stack.runtime.replicas(paired.id).length;
const pairedRps = await throughput(pairedUrl, 10);
const peers: Record<string, number> = {};
for (const workers of [1, 4]) {
  const peer = await startFastApi(workers);
  await throughput(peer.url, 3);
  peers[`uvicorn --workers ${workers}`] = await throughput(peer.url, 10);
  await peer.close();
}
await stack.close();
const loadAfter = loadavg();

const results = {
  at: new Date().toISOString(),
  machine: `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`,
  load: { before: loadBefore, after: loadAfter },
  proxyOverhead: {
    proxiedP50Ms: pct(proxied, 50),
    proxiedP99Ms: pct(proxied, 99),
    directP50Ms: pct(directly, 50),
    directP99Ms: pct(directly, 99),
    overheadP50Ms: overhead,
    calls: proxied.length,
  },
  firstResponseAfterScaleToZeroMs: { samples: cold, origins: coldOrigins, p50: pct(cold, 50) },
  firstResponseAfterScaleToZeroSklearnMs: {
    samples: heavy.samples,
    origins: heavy.origins,
    p50: pct(heavy.samples, 50),
    uvicornColdStartSamples: heavyPeer,
    uvicornColdStartP50: pct(heavyPeer, 50),
  },
  throughput: {
    kilnRps,
    replicas: replicasUsed,
    concurrency2: { kilnRps: pairedRps, replicas: pairedReplicas },
    peers,
  },
};
await writeFile(join(root, 'bench/results/endpoints.json'), `${JSON.stringify(results, null, 2)}\n`);
const lines = [
  '# Endpoints benchmark: proxy overhead, first response after scale to zero, requests per second',
  '',
  `Run ${results.at} on ${results.machine}, Node ${process.version}, with \`npx tsx bench/endpoints/run.ts\`.`,
  `Machine load (1 / 5 / 15 min; other work shared the machine): before ${loadBefore.map((l) => l.toFixed(2)).join(' / ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' / ')}.`,
  '',
  'One gateway node (runsc replicas restored from its kernel snapshot, or from the snapshot it took after',
  "the version's module was imported; 0.25 core and 512 MiB each), the",
  'scheduler and the endpoint runtime over Postgres, the `/e/` handler on a Node HTTP server. The function:',
  '`def echo(x=0): return x`, called with `{"x": 1}`.',
  '',
  '| Measure | Kiln | Peer | Target |',
  '|---|---|---|---|',
  `| Call p50 / p99, ${proxied.length} sequential calls | ${ms(pct(proxied, 50))} / ${ms(pct(proxied, 99))} (through /e/) | ${ms(pct(directly, 50))} / ${ms(pct(directly, 99))} (same warm replica, kernel websocket) | |`,
  `| Proxy overhead, p50 difference | ${ms(overhead)} | | at most 5 ms: ${overhead <= 5 ? 'met' : 'not met'} |`,
  `| First response after scale to zero, p50 of ${cold.length} | ${ms(pct(cold, 50))} (${cold.map((c) => Math.round(c)).join(', ')} ms; started from ${coldOrigins.join(', ')}) | | at most 1.5 s: ${pct(cold, 50) <= 1500 ? 'met' : 'not met'} |`,
  `| The same, module imports scikit-learn and SciPy | ${ms(pct(heavy.samples, 50))} (${heavy.samples.map((c) => Math.round(c)).join(', ')} ms; started from ${heavy.origins.join(', ')}) | ${ms(pct(heavyPeer, 50))} (uvicorn started cold with the same module, to its first answer; ${heavyPeer.map((c) => Math.round(c)).join(', ')} ms) | at most 1.5 s: ${pct(heavy.samples, 50) <= 1500 ? 'met' : 'not met'}; ratio ${(pct(heavy.samples, 50) / pct(heavyPeer, 50)).toFixed(2)} |`,
  ...Object.entries(peers).map(
    ([name, rps]) =>
      `| Requests per second, 8 callers, 10 s | ${kilnRps.toFixed(0)}/s (${replicasUsed} replicas, 1 call each at once) | ${rps.toFixed(0)}/s (FastAPI, ${name}, no sandbox) | ratio ${(kilnRps / rps).toFixed(2)} |`,
  ),
  ...Object.entries(peers).map(
    ([name, rps]) =>
      `| The same, 2 concurrent calls per replica | ${pairedRps.toFixed(0)}/s (${pairedReplicas} replicas) | ${rps.toFixed(0)}/s (FastAPI, ${name}) | ratio ${(pairedRps / rps).toFixed(2)} |`,
  ),
  '',
];
await writeFile(join(root, 'bench/results/endpoints.md'), lines.join('\n'));
console.log(lines.join('\n'));
process.exit(0);
