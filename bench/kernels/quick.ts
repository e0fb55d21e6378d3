/**
 * A short focused run of the kernel benchmark's stdout and `1+1` measures, Kiln (warm pool) against
 * Jupyter Server with its rate limits lifted, alternating within one run so load hits both alike.
 * `npx tsx bench/kernels/quick.ts` (BENCH_QUICK_ROUNDS, default 3). Ratios only, and the CPU each stdout run
 * cost; the full run is run.ts.
 */
import { loadavg } from 'node:os';
import { cpuSpent, sampleCpu } from './cpu.ts';
import type { PlainChannel } from './plain-client.ts';
import { runBenchmark, type Server } from './servers.ts';
import { median, openKernel, STREAM_BYTES, STREAM_CODE, startStdoutPair } from './stdout-pair.ts';

const ROUNDS = Number(process.env.BENCH_QUICK_ROUNDS ?? 3);

const cpu = { jupyter: [] as number[], kiln: [] as number[] };

async function stream(server: Server, channel: PlainChannel, into: number[]) {
  const before = sampleCpu(server);
  let received = 0;
  const t0 = performance.now();
  await channel.execute(STREAM_CODE, {
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
  const { jupyter, kiln } = await startStdoutPair();
  const j = await openKernel(jupyter);
  const k = await openKernel(kiln);
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

runBenchmark(main);
