// The proxy's own CPU per call: Kiln's /e/ path (HTTP server, routing, pool, request log, price) in
// front of an in-memory replica that answers at once, measured as this process's CPU time per call.
// CPU time, unlike latency, barely moves with the machine's load, so it shows what a change to the
// request path saves even on a busy machine. `npx tsx bench/endpoints/proxy-cpu.ts`
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Agent, createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestDatabase } from '@kiln/db/testing';
import { createEndpointRuntime, type ReplicaHost } from '@kiln/endpoints';
import { createEndpointHandler } from '@kiln/endpoints/serve';

/** A replica that answers every call with `1` without leaving this process. */
const host: ReplicaHost = {
  async start() {
    return {
      id: `memory-${randomBytes(4).toString('hex')}`,
      startedFrom: 'module',
      execute: async () => ({ kind: 'ok', results: [{ status: 'ok', body: '1' }] }),
      interrupt: async () => undefined,
      onExit: () => undefined,
      stop: async () => undefined,
    };
  },
};

export interface ProxyCpu {
  calls: number;
  /** CPU microseconds per call of the whole process: the server's path and a plain keep-alive client. */
  cpuUsPerCall: number;
}

/** Measures `calls` sequential POSTs through Kiln's /e/ handler. */
export async function measureProxyCpu(calls = 3000): Promise<ProxyCpu> {
  const database = await createTestDatabase({ max: 4 });
  const { db } = database;
  const runtime = createEndpointRuntime({ db, host, tickMs: 250 });
  const handler = createEndpointHandler({ runtime });
  const server = createServer((request, response) => {
    void handler(request, response).then((handled) => {
      if (!handled) response.writeHead(404).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const slug = `cpu-${randomBytes(3).toString('hex')}`;
  const ws = await db.workspace.create({ data: { name: 'cpu', slug, plan: 'TEAM' } });
  const actor = { userId: null };
  const endpoint = await runtime.store.create(ws.id, actor, { label: 'echo', settings: { public: true } });
  await runtime.deploy(ws.id, endpoint.id, actor, {
    functionName: 'echo',
    source: 'def echo(x=0):\n    return x\n',
    origin: { kind: 'function_file', fileId: '00000000-0000-4000-8000-000000000000' },
    dependencies: { imports: [], definitions: [], missing: [] },
    parameters: [],
    sampleInput: { x: 1 },
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const body = '{"x": 1}';
  /** A plain keep-alive HTTP client, so the client's own share of the CPU stays small. */
  const post = () =>
    new Promise<void>((resolve, reject) => {
      const request = httpRequest(
        {
          agent,
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: `/e/${slug}/echo`,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (response: IncomingMessage) => {
          response.resume();
          response.on('end', () =>
            response.statusCode === 200 ? resolve() : reject(new Error(`status ${response.statusCode}`)),
          );
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  for (let i = 0; i < 500; i++) await post();
  const start = process.cpuUsage();
  for (let i = 0; i < calls; i++) await post();
  const used = process.cpuUsage(start);
  await runtime.log.flush();
  // Every call's row was written (a cheaper path that dropped them would not count).
  const logged = await db.endpointRequest.count({ where: { endpointId: endpoint.id, status: 200 } });
  if (logged !== calls + 500) throw new Error(`${logged} calls logged, ${calls + 500} made`);
  const sample = await db.endpointRequest.findFirstOrThrow({ where: { endpointId: endpoint.id } });
  if (sample.method !== 'POST' || sample.workspaceId !== ws.id || sample.costNanos < 0n)
    throw new Error(
      `a logged call reads back wrong: ${JSON.stringify(sample, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`,
    );
  agent.destroy();
  server.close();
  await runtime.close();
  await database.drop();
  return {
    calls,
    cpuUsPerCall: (used.user + used.system) / calls,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await measureProxyCpu(Number(process.argv[2] ?? 3000));
  console.log(JSON.stringify(result));
  process.exit(0);
}
