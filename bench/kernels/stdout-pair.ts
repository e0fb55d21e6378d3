/**
 * What quick.ts and stream-path.ts share: Kiln (warm pool) against Jupyter Server with its rate limits
 * lifted, a kernel opened on each, and the 20 MiB of stdout they compare.
 */
import type { PlainChannel } from './plain-client.ts';
import { type Server, startJupyter, startKiln } from './servers.ts';

export const STREAM_BYTES = 20 * 1024 * 1024;

/** 20 MiB written as 20,480 lines of 1 KiB with `sys.stdout.write`. */
export const STREAM_CODE = `import sys\nline = 'x' * 1023 + '\\n'\nfor _ in range(${STREAM_BYTES / 1024}):\n    sys.stdout.write(line)\nsys.stdout.flush()`;

export const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

/** Jupyter Server with its iopub rate limits lifted, and the Kiln gateway with a warm pool of one. */
export async function startStdoutPair(): Promise<{ jupyter: Server; kiln: Server }> {
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
  return { jupyter, kiln };
}

/** A kernel that has answered kernel_info and ten `1+1`s, so the measured runs find it warm. */
export async function openKernel(server: Server): Promise<PlainChannel> {
  const model = await server.client.startKernel({ name: 'python3' });
  const channel = await server.client.connect(model.id);
  await channel.request('shell', 'kernel_info_request', {}, 120_000);
  for (let i = 0; i < 10; i++) await channel.execute('1+1');
  return channel;
}
