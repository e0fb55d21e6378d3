/**
 * A stand-in for a gateway process in tests: registers a node with a declared inventory and sends a
 * heartbeat every `intervalMs` until killed. Usage: heartbeat-node.ts <databaseUrl> <nodeId> <intervalMs>
 */
import { createDb } from '@kiln/db';
import { discoverGpus } from '../src/gpu-inventory.ts';
import { createScheduler } from '../src/scheduler.ts';

const [url, nodeId, interval] = process.argv.slice(2);
if (!url || !nodeId || !interval)
  throw new Error('usage: heartbeat-node.ts <databaseUrl> <nodeId> <intervalMs>');
const db = createDb(url, { max: 2 });
const scheduler = createScheduler({ db });
await scheduler.registerNode({
  id: nodeId,
  url: `http://127.0.0.1:1/${nodeId}`,
  cpu: 16,
  memoryMiB: 65_536,
  gpus: await discoverGpus({ declared: [{ type: 'T4', count: 2 }] }),
});
process.stdout.write('registered\n');
setInterval(() => {
  scheduler.heartbeat(nodeId).catch((error: unknown) => process.stderr.write(`${String(error)}\n`));
}, Number(interval));
