// Collab server benchmark: @kiln/collab (authentication + Postgres store) against y-websocket 2.1's
// reference server (in memory), side by side in one run. Each server runs in its own process; the
// clients (stock WebsocketProviders) share this one. Loopback only, every wait bounded.
//   npx tsx bench/collab/run.ts            writes bench/results/collab.{md,json} (about 2 minutes)
import { type ChildProcess, fork } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as encoding from 'lib0/encoding';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { benchToken } from './token.ts';

type Kind = 'reference' | 'kiln-memory' | 'kiln-async-commit' | 'kiln';
const KINDS: Kind[] = ['reference', 'kiln-memory', 'kiln-async-commit', 'kiln'];

const LATENCY_RUNS = [
  { clients: 20, edits: 500 },
  { clients: 50, edits: 400 },
];
const WARMUP_EDITS = 30;
const BLOCKS = 100;
const THROUGHPUT = { writers: 4, updatesPerWriter: 2500 };
const THROUGHPUT_ROUNDS = 3;
const MEMORY_DOCUMENTS = 100;
const TIMEOUT_MS = 60_000;

interface Server {
  kind: Kind;
  port: number;
  child: ChildProcess;
  ask<T>(message: { type: string; count?: number }): Promise<T>;
}

async function startServer(kind: Kind): Promise<Server> {
  const child = fork(fileURLToPath(new URL('./server-process.ts', import.meta.url)), [kind], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { type: string; port: number }) => resolve(message.port));
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
  });
  const ask = <T>(message: { type: string; count?: number }) =>
    withTimeout(
      new Promise<T>((resolve) => {
        const onMessage = (reply: { type: string }) => {
          if (reply.type !== message.type && !(message.type === 'exit' && reply.type === 'exited')) return;
          child.off('message', onMessage);
          resolve(reply as T);
        };
        child.on('message', onMessage);
        child.send(message);
      }),
      `${kind} ${message.type}`,
    );
  return { kind, port, child, ask };
}

function withTimeout<T>(promise: Promise<T>, what: string, ms = TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function roomUrl(
  server: Server,
  name: string,
  user: string,
): { base: string; params: Record<string, string> } {
  const params: Record<string, string> = server.kind !== 'reference' ? { token: benchToken(user, name) } : {};
  return { base: `ws://127.0.0.1:${server.port}/yjs`, params };
}

function connect(server: Server, name: string, user: string): WebsocketProvider {
  const { base, params } = roomUrl(server, name, user);
  return new WebsocketProvider(base, name, new Y.Doc(), {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    params,
    disableBc: true,
  });
}

async function allSynced(providers: WebsocketProvider[]): Promise<void> {
  await withTimeout(
    (async () => {
      while (!providers.every((p) => p.synced)) await sleep(5);
    })(),
    'clients to sync',
  );
}

function closeAll(providers: WebsocketProvider[]): void {
  for (const provider of providers) {
    provider.destroy();
    provider.doc.destroy();
  }
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

interface EditSamples {
  /** Per edit, ms until every other client applied it. */
  propagation: number[];
  /** Per edit, ms until its author got it back from the server (its acknowledgement). */
  ack: number[];
}

interface EditRunner {
  /** Makes `count` edits one after another, each once the previous one is seen and acknowledged. */
  run(count: number): Promise<EditSamples>;
  close(): void;
}

async function editRunner(server: Server, clients: number): Promise<EditRunner> {
  const [name = ''] = (await server.ask<{ names: string[] }>({ type: 'notebooks', count: 1 })).names;
  const providers = Array.from({ length: clients }, (_, i) => connect(server, name, `user${i}`));
  await allSynced(providers);
  const [writer, ...receivers] = providers;
  if (!writer) throw new Error('no writer');
  let expected = 0;
  let remaining = 0;
  let started = 0;
  let done: (ms: number) => void = () => {};
  let acked: (ms: number) => void = () => {};
  for (const receiver of receivers) {
    let seen = 0;
    const text = receiver.doc.getText('source');
    receiver.doc.on('update', () => {
      if (seen < expected && text.length >= expected) {
        seen = expected;
        if (--remaining === 0) done(performance.now() - started);
      }
    });
  }
  // The only writer, so any document update the server sends it is the echo of its own edit.
  const sync = writer.messageHandlers[0] as NonNullable<(typeof writer.messageHandlers)[0]>;
  writer.messageHandlers[0] = (encoder, decoder, ...rest) => {
    if (decoder.arr[decoder.pos] === 2) acked(performance.now() - started);
    sync(encoder, decoder, ...rest);
  };
  const text = writer.doc.getText('source');
  return {
    async run(count) {
      const samples: EditSamples = { propagation: [], ack: [] };
      for (let i = 0; i < count; i++) {
        const applied = new Promise<number>((resolve) => {
          done = resolve;
        });
        const echoed = new Promise<number>((resolve) => {
          acked = resolve;
        });
        expected++;
        remaining = receivers.length;
        started = performance.now();
        text.insert(expected - 1, 'x');
        const what = `edit ${expected} to reach ${receivers.length} clients and its author`;
        const [propagation, ack] = await withTimeout(Promise.all([applied, echoed]), what);
        samples.propagation.push(propagation);
        samples.ack.push(ack);
        acked = () => {};
        // A gap between keystrokes, as in typing; also lets the server go idle between edits.
        await sleep(2);
      }
      return samples;
    },
    close: () => closeAll(providers),
  };
}

/**
 * Propagation samples per server. The servers take turns in blocks of edits so that load from
 * elsewhere on the machine falls on all of them alike.
 */
async function propagation(
  servers: Server[],
  clients: number,
  edits: number,
): Promise<Map<Kind, EditSamples>> {
  const runners = new Map<Kind, EditRunner>();
  const samples = new Map<Kind, EditSamples>();
  try {
    for (const server of servers) runners.set(server.kind, await editRunner(server, clients));
    for (const runner of runners.values()) await runner.run(WARMUP_EDITS);
    for (let block = 0; block < BLOCKS; block++) {
      for (const [kind, runner] of runners) {
        const before = samples.get(kind) ?? { propagation: [], ack: [] };
        const block = await runner.run(edits / BLOCKS);
        samples.set(kind, {
          propagation: [...before.propagation, ...block.propagation],
          ack: [...before.ack, ...block.ack],
        });
      }
    }
    return samples;
  } finally {
    for (const runner of runners.values()) runner.close();
  }
}

function encodeSyncUpdate(update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, 0);
  encoding.writeVarUint(encoder, 2);
  encoding.writeVarUint8Array(encoder, update);
  return encoding.toUint8Array(encoder);
}

/** Updates per second the server delivers to an observer, with writers sending flat out. */
async function throughput(server: Server): Promise<{ updates: number; seconds: number; perSecond: number }> {
  const { writers, updatesPerWriter } = THROUGHPUT;
  const [name = ''] = (await server.ask<{ names: string[] }>({ type: 'notebooks', count: 1 })).names;
  const observer = connect(server, name, 'observer');
  const sockets: WebSocket[] = [];
  try {
    await allSynced([observer]);
    const batches = Array.from({ length: writers }, (_, w) => {
      const doc = new Y.Doc();
      const messages: Uint8Array[] = [];
      doc.on('update', (update: Uint8Array) => messages.push(encodeSyncUpdate(update)));
      const text = doc.getText('source');
      for (let i = 0; i < updatesPerWriter; i++) text.insert(i, String.fromCharCode(97 + w));
      return messages;
    });
    for (let w = 0; w < writers; w++) {
      const { base, params } = roomUrl(server, name, `writer${w}`);
      const ws = new WebSocket(`${base}/${name}?${new URLSearchParams(params)}`);
      sockets.push(ws);
      // The server's sync step 1 says the room is open; the kiln server buffers only a few messages before that.
      await withTimeout(new Promise((resolve) => ws.once('message', resolve)), 'writer to open');
    }
    const total = writers * updatesPerWriter;
    const text = observer.doc.getText('source');
    const started = performance.now();
    sockets.forEach((ws, w) => {
      for (const message of batches[w] ?? []) ws.send(message);
    });
    await withTimeout(
      new Promise<void>((resolve) => {
        const check = () => {
          if (text.length >= total) {
            observer.doc.off('update', check);
            resolve();
          }
        };
        observer.doc.on('update', check);
      }),
      'observer to receive every update',
    );
    const seconds = (performance.now() - started) / 1000;
    return { updates: total, seconds, perSecond: total / seconds };
  } finally {
    for (const ws of sockets) ws.terminate();
    closeAll([observer]);
  }
}

/** Server heap and RSS growth per open document (a 20-cell notebook, one client connected). */
async function memory(
  server: Server,
): Promise<{ documents: number; heapPerDocKiB: number; rssPerDocKiB: number }> {
  type Usage = { heapUsed: number; external: number; rss: number };
  const names = (await server.ask<{ names: string[] }>({ type: 'notebooks', count: MEMORY_DOCUMENTS })).names;
  await sleep(3000); // rooms from earlier phases unload (kiln) before the baseline
  const before = await server.ask<Usage>({ type: 'memory' });
  const providers = names.map((name, i) => connect(server, name, `mem${i}`));
  try {
    await allSynced(providers);
    for (const provider of providers) {
      const cells = provider.doc.getArray<Y.Map<unknown>>('cells');
      provider.doc.transact(() => {
        for (let c = 0; c < 20; c++) {
          const cell = new Y.Map<unknown>();
          cell.set('id', `cell-${c}`);
          cell.set('cell_type', 'code');
          cell.set(
            'source',
            new Y.Text(`import numpy as np\nx = np.arange(${c})\nprint(x.sum())\n`.repeat(3)),
          );
          cell.set('outputs', new Y.Array());
          cells.push([cell]);
        }
      });
    }
    const stats = async () => server.ask<{ stats: unknown }>({ type: 'stats' });
    // Settled when every room holds the content: a fresh reader of the last document sees 20 cells.
    const last = names.at(-1) ?? '';
    await withTimeout(
      (async () => {
        for (;;) {
          const probe = connect(server, last, 'probe');
          await allSynced([probe]);
          const count = probe.doc.getArray('cells').length;
          closeAll([probe]);
          if (count === 20) return;
          await sleep(50);
        }
      })(),
      'documents to settle',
    );
    await stats();
    const after = await server.ask<Usage>({ type: 'memory' });
    const perDoc = (bytes: number) => bytes / MEMORY_DOCUMENTS / 1024;
    return {
      documents: MEMORY_DOCUMENTS,
      heapPerDocKiB: perDoc(after.heapUsed + after.external - before.heapUsed - before.external),
      rssPerDocKiB: perDoc(after.rss - before.rss),
    };
  } finally {
    closeAll(providers);
  }
}

const round = (n: number, digits = 2) => Number(n.toFixed(digits));

interface Latency {
  p50: number;
  p99: number;
}

async function main() {
  const servers: Server[] = [];
  for (const kind of KINDS) servers.push(await startServer(kind));
  const byKind = (kind: Kind) => servers.find((server) => server.kind === kind) as Server;
  const result: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
    loadAverageAtStart: loadavg().map((n) => round(n)),
  };
  try {
    const latency: Record<string, unknown>[] = [];
    const acks: Record<string, unknown>[] = [];
    const summarize = (clients: number, edits: number, values: Map<Kind, number[]>, what: string) => {
      const row: Record<string, unknown> = { clients, edits };
      for (const [kind, samples] of values) {
        row[kind] = { p50: round(percentile(samples, 50)), p99: round(percentile(samples, 99)) };
        console.log(`${what}, ${clients} clients, ${kind}: ${JSON.stringify(row[kind])} ms`);
      }
      const ref = row.reference as Latency;
      for (const kind of ['kiln-memory', 'kiln-async-commit', 'kiln'] as const) {
        const ours = row[kind] as Latency;
        row[`${kind} ratio`] = { p50: round(ours.p50 / ref.p50), p99: round(ours.p99 / ref.p99) };
      }
      return row;
    };
    for (const { clients, edits } of LATENCY_RUNS) {
      const samples = [...(await propagation(servers, clients, edits))];
      const pick = (key: keyof EditSamples) => new Map(samples.map(([kind, s]) => [kind, s[key]]));
      latency.push(summarize(clients, edits, pick('propagation'), 'propagation'));
      acks.push(summarize(clients, edits, pick('ack'), 'acknowledgement'));
    }
    result.propagation = latency;
    result.acknowledgement = acks;

    const rates: Record<string, unknown> = { ...THROUGHPUT, rounds: THROUGHPUT_ROUNDS };
    const runs = new Map<Kind, number[]>();
    for (let round = 0; round < THROUGHPUT_ROUNDS; round++) {
      for (const kind of KINDS) {
        const run = await throughput(byKind(kind));
        runs.set(kind, [...(runs.get(kind) ?? []), run.perSecond]);
      }
    }
    for (const kind of KINDS) {
      const perSecond = runs.get(kind) ?? [];
      rates[kind] = {
        medianUpdatesPerSecond: Math.round(percentile(perSecond, 50)),
        runs: perSecond.map(Math.round),
      };
      console.log(`throughput ${kind}: ${JSON.stringify(rates[kind])} updates/s`);
    }
    rates.kilnStore = (await byKind('kiln').ask<{ stats: unknown }>({ type: 'stats' })).stats;
    result.throughput = rates;

    const mem: Record<string, unknown> = {};
    for (const kind of KINDS) {
      mem[kind] = await memory(byKind(kind));
      console.log(`memory ${kind}: ${JSON.stringify(mem[kind])}`);
    }
    result.memory = mem;
    result.loadAverageAtEnd = loadavg().map((n) => round(n));
  } finally {
    await Promise.all(servers.map((server) => server.ask({ type: 'exit' }).catch(() => undefined)));
    for (const server of servers) server.child.kill();
  }
  const resultsDir = new URL('../results/', import.meta.url);
  await writeFile(new URL('collab.json', resultsDir), `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(new URL('collab.md', resultsDir), markdown(result));
  console.log('wrote bench/results/collab.md and collab.json');
}

type LatencyRow = Record<Kind, Latency> & {
  clients: number;
  edits: number;
  'kiln ratio': Latency;
  'kiln-memory ratio': Latency;
  'kiln-async-commit ratio': Latency;
};

function markdown(result: Record<string, unknown>): string {
  const latency = result.propagation as LatencyRow[];
  const acks = (result.acknowledgement ?? []) as LatencyRow[];
  const rates = result.throughput as Record<Kind, { medianUpdatesPerSecond: number; runs: number[] }> & {
    kilnStore: unknown;
  };
  const mem = result.memory as Record<Kind, { heapPerDocKiB: number }>;
  const ms = (l: Latency) => `${l.p50} / ${l.p99}`;
  const table = (rows: LatencyRow[], target: string) => [
    `| clients | edits | reference | kiln-memory | kiln-async-commit | kiln (Postgres) | kiln-memory / ref | kiln-async-commit / ref | kiln / ref${target} |`,
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (row) =>
        `| ${row.clients} | ${row.edits} | ${ms(row.reference)} | ${ms(row['kiln-memory'])} | ${ms(row['kiln-async-commit'])} | ${ms(row.kiln)} | ${ms(row['kiln-memory ratio'])} | ${ms(row['kiln-async-commit ratio'])} | ${ms(row['kiln ratio'])} |`,
    ),
  ];
  return [
    '# Collab server benchmark',
    '',
    `${result.date}; ${result.machine}; load average ${JSON.stringify(result.loadAverageAtStart)} at start,`,
    `${JSON.stringify(result.loadAverageAtEnd)} at the end (the machine is shared). \`npx tsx bench/collab/run.ts\`.`,
    '',
    '- **reference**: y-websocket 2.1 `bin/utils` setupWSConnection on a plain `ws` server, in memory, no auth.',
    '- **kiln**: `@kiln/collab` with token authentication and the Postgres store: an update is applied and',
    '  broadcast to the other clients at once and appended to `NotebookUpdate` (one committed INSERT per',
    '  batch) meanwhile; its author gets it back (its acknowledgement) only once that INSERT committed.',
    '- **kiln-memory**: the same server and authentication with the memory store, to separate the cost of',
    '  the server from the cost of the durable write.',
    '- **kiln-async-commit**: the Postgres store on a connection with `synchronous_commit=off` (the commit',
    '  returns before the WAL is flushed: survives a Kiln restart, not a Postgres or OS crash); shows how',
    '  much of the Postgres cost is the WAL flush. Not the default.',
    '',
    'Each server runs in its own process; all clients (stock `WebsocketProvider`s over `ws`) run in the bench',
    'process, over loopback.',
    '',
    '## Edit propagation: one writer; time until every other client has applied the edit (p50 / p99, ms)',
    '',
    'How to read it: kiln-memory against the reference is the cost of this server itself (auth, message',
    'validation, viewer checks, batching). kiln against kiln-memory is what the durable write still costs',
    'the other clients: the INSERT no longer precedes the broadcast, but Prisma and Postgres take CPU on',
    'the same machine while the clients decode the edit. On a two-core machine shared with other work,',
    'p99 mostly measures the machine (see the load average).',
    '',
    `Servers take turns in ${BLOCKS} blocks, so outside load falls on each alike; ${WARMUP_EDITS} warm-up edits each.`,
    'The writer makes its next edit once the previous one reached everyone and came back to it.',
    '',
    ...table(latency, ' (target p99 <= 1.25)'),
    '',
    '## Acknowledgement: time until the writer gets its own edit back from the server (p50 / p99, ms)',
    '',
    'The reference echoes at once and stores nothing; kiln echoes once the edit is committed, so this is',
    'where the durable write shows: the INSERT round trip and, for kiln, the WAL flush.',
    '',
    ...table(acks, ''),
    '',
    `## Sustained updates: ${THROUGHPUT.writers} writers send ${THROUGHPUT.updatesPerWriter} one-character updates each, flat out; one observer`,
    '',
    `Servers take turns, ${THROUGHPUT_ROUNDS} rounds; the median and every run.`,
    '',
    '| server | updates/s (median) | runs |',
    '|---|---|---|',
    ...KINDS.map(
      (kind) => `| ${kind} | ${rates[kind].medianUpdatesPerSecond} | ${rates[kind].runs.join(', ')} |`,
    ),
    '',
    'The rate is what the observer receives. Kiln broadcasts each update as it arrives, as the reference does,',
    `and writes the updates that arrive while an INSERT runs in the next INSERT (one statement and one commit per batch, one row per update); its store after all phases: ${JSON.stringify(rates.kilnStore)}.`,
    '',
    `## Memory per open document: ${MEMORY_DOCUMENTS} documents, a 20-cell notebook each, one client connected`,
    '',
    'Growth of heap + external memory after a forced GC, divided by the number of documents. (The JSON',
    'also has RSS growth, which the allocator and the shared machine make too noisy to compare.)',
    '',
    '| server | heap + external per document |',
    '|---|---|',
    ...KINDS.map((kind) => `| ${kind} | ${mem[kind].heapPerDocKiB.toFixed(1)} KiB |`),
    '',
  ].join('\n');
}

async function render(): Promise<void> {
  const resultsDir = new URL('../results/', import.meta.url);
  const result = JSON.parse(await readFile(new URL('collab.json', resultsDir), 'utf8')) as Record<
    string,
    unknown
  >;
  await writeFile(new URL('collab.md', resultsDir), markdown(result));
}

// `--render` rewrites collab.md from collab.json without measuring again.
(process.argv.includes('--render') ? render() : main()).catch((error) => {
  console.error(error);
  process.exit(1);
});
