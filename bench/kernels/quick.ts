/**
 * A short focused run of the kernel benchmark's stdout and `1+1` measures, Kiln (warm pool) against
 * Jupyter Server with its rate limits lifted, alternating within one run so load hits both alike.
 * `npx tsx bench/kernels/quick.ts` (BENCH_QUICK_ROUNDS, default 3). Ratios only, and the CPU each stdout run
 * cost; the full run is run.ts.
 */
import { loadavg } from 'node:os';
import { cpuSpent, sampleCpu } from './cpu.ts';
import type { PlainChannel } from './plain-client.ts';
import { type Server, started, startJupyter, startKiln, stop } from './servers.ts';

const ROUNDS = Number(process.env.BENCH_QUICK_ROUNDS ?? 3);
const STREAM_BYTES = 20 * 1024 * 1024;
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

async function open(server: Server) {
  const model = await server.client.startKernel({ name: 'python3' });
  const channel = await server.client.connect(model.id);
  await channel.request('shell', 'kernel_info_request', {}, 120_000);
  for (let i = 0; i < 10; i++) await channel.execute('1+1');
  return channel;
}

const cpu = { jupyter: [] as number[], kiln: [] as number[] };

async function stream(server: Server, channel: PlainChannel, into: number[]) {
  const before = sampleCpu(server);
  const code = `import sys\nline = 'x' * 1023 + '\\n'\nfor _ in range(${STREAM_BYTES / 1024}):\n    sys.stdout.write(line)\nsys.stdout.flush()`;
  let received = 0;
  const t0 = performance.now();
  await channel.execute(code, {
    timeoutMs: 300_000,
    onMessage: (m) => {
      if (m.header.msg_type === 'stream' && m.content.name === 'stdout')
        received += Buffer.byteLength(String(m.content.text));
    },
  });
  if (received !== STREAM_BYTES) throw new Error(`lost ${STREAM_BYTES - received} bytes`);
  into.push(cpuSpent(before, sampleCpu(server)).total);
  return STREAM_BYTES / ((performance.now() - t0) / 1000) / 1e6;
}

async function roundTrips(channel: PlainChannel, n: number) {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await channel.execute('1+1');
    samples.push(performance.now() - t0);
  }
  return median(samples);
}

async function main() {
  const load = () =>
    loadavg()
      .map((v) => v.toFixed(1))
      .join('/');
  console.log(`load before ${load()}`);
  const jupyter = await startJupyter('jupyter (limits lifted)', [
    '--ServerApp.iopub_data_rate_limit=1e12',
    '--ServerApp.iopub_msg_rate_limit=1e9',
  ]);
  // KILN_PROF=<dir>: the gateway writes a CPU profile there when it stops.
  const prof = process.env.KILN_PROF;
  const kiln = await startKiln(
    'kiln',
    { KILN_WARM_POOL_SIZE: '1' },
    prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [],
  );
  const j = await open(jupyter);
  const k = await open(kiln);
  const rates = { jupyter: [] as number[], kiln: [] as number[] };
  const rtt = { jupyter: [] as number[], kiln: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    rates.jupyter.push(await stream(jupyter, j, cpu.jupyter));
    rates.kiln.push(await stream(kiln, k, cpu.kiln));
    rtt.jupyter.push(await roundTrips(j, 50));
    rtt.kiln.push(await roundTrips(k, 50));
  }
  const f = (v: number[]) => v.map((x) => x.toFixed(1)).join(', ');
  console.log(
    `stdout MB/s jupyter [${f(rates.jupyter)}] kiln [${f(rates.kiln)}] ratio ${(median(rates.kiln) / median(rates.jupyter)).toFixed(2)}x`,
  );
  console.log(
    `stdout CPU ms per 20 MiB (client + server + sandboxes) jupyter [${f(cpu.jupyter)}] kiln [${f(cpu.kiln)}] ratio ${(median(cpu.kiln) / median(cpu.jupyter)).toFixed(2)}x`,
  );
  console.log(
    `1+1 p50 ms jupyter [${f(rtt.jupyter)}] kiln [${f(rtt.kiln)}] ratio ${(median(rtt.kiln) / median(rtt.jupyter)).toFixed(2)}x`,
  );
  console.log(`load after ${load()}`);
  await j.close();
  await k.close();
}

main()
  .then(
    () => 0,
    (error) => {
      console.error(error);
      return 1;
    },
  )
  .then(async (code) => {
    await Promise.all(started.filter((s) => s.process.exitCode === null).map(stop));
    process.exit(code);
  });
