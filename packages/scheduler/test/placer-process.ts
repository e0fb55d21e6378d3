/**
 * A stand-in for a web process in tests and the benchmark: waits for "go" on stdin, then asks for
 * `count` containers at once and prints one JSON line with what happened.
 * Usage: placer-process.ts <databaseUrl> <workspaceIds,...> <count> <resourcesJson> [sequential]
 * (requests go to the workspaces in turn)
 */
import { performance } from 'node:perf_hooks';
import { isDomainError } from '@kiln/core';
import { createDb } from '@kiln/db';
import { createScheduler } from '../src/scheduler.ts';

const [url, workspaceIds, count, resources, mode] = process.argv.slice(2);
if (!url || !workspaceIds || !count || !resources) {
  throw new Error(
    'usage: placer-process.ts <databaseUrl> <workspaceIds,...> <count> <resourcesJson> [sequential]',
  );
}
const workspaces = workspaceIds.split(',');
const db = createDb(url, { max: 8 });
const scheduler = createScheduler({ db });
// One round trip before the clock starts, so connecting is not measured.
await db.$queryRaw`SELECT 1`;
process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
process.stdin.destroy();

const result = { placed: [] as string[], refused: 0, failures: [] as string[], latenciesMs: [] as number[] };
async function one(n: number): Promise<void> {
  const started = performance.now();
  try {
    const container = await scheduler.request({
      workspaceId: workspaces[n % workspaces.length] as string,
      kind: 'kernel',
      ownerId: `${process.pid}-${n}`,
      resources: JSON.parse(resources as string),
      whenBusy: 'refuse',
    });
    result.latenciesMs.push(performance.now() - started);
    result.placed.push(container.id);
  } catch (error) {
    if (isDomainError(error) && error.code === 'GPU_UNAVAILABLE') result.refused++;
    else result.failures.push(String(error));
  }
}
if (mode === 'sequential') {
  for (let n = 0; n < Number(count); n++) await one(n);
} else {
  await Promise.all(Array.from({ length: Number(count) }, (_, n) => one(n)));
}
await scheduler.close();
await db.$disconnect();
process.stdout.write(`${JSON.stringify(result)}\n`);
