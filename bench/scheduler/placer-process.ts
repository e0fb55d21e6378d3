/**
 * One "web process" of the Postgres benchmark: waits for "go" on stdin, then places `count` containers
 * one after another through its own scheduler and connections, stopping each right after (not timed),
 * and prints one JSON line with the placement latencies.
 * Usage: placer-process.ts <databaseUrl> <workspaceIds,...> <count>
 */
import { performance } from 'node:perf_hooks';
import { createDb } from '@kiln/db';
import { createScheduler } from '@kiln/scheduler';

const [url, workspaceIds, count] = process.argv.slice(2);
if (!url || !workspaceIds || !count)
  throw new Error('usage: placer-process.ts <databaseUrl> <workspaceIds,...> <count>');
const workspaces = workspaceIds.split(',');
const db = createDb(url, { max: 4 });
const scheduler = createScheduler({ db });
await db.$queryRaw`SELECT 1`;
process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
process.stdin.destroy();

const shapes = [
  { cpu: 2, memoryMiB: 8192, gpu: 'H100' },
  { cpu: 4, memoryMiB: 16_384, gpu: ['H100:2', 'A100-80GB:2'] },
  { cpu: 1, memoryMiB: 2048 },
  { cpu: 2, memoryMiB: 4096, gpu: 'A100-80GB' },
];
const latenciesMs: number[] = [];
const failures: string[] = [];
for (let n = 0; n < Number(count); n++) {
  const started = performance.now();
  try {
    const container = await scheduler.request({
      workspaceId: workspaces[n % workspaces.length] as string,
      kind: 'kernel',
      ownerId: `bench-${process.pid}-${n}`,
      resources: shapes[n % shapes.length],
      whenBusy: 'refuse',
    });
    latenciesMs.push(performance.now() - started);
    await scheduler.stop(container.id);
  } catch (error) {
    failures.push(String(error));
  }
}
await scheduler.close();
await db.$disconnect();
process.stdout.write(`${JSON.stringify({ latenciesMs, failures })}\n`);
