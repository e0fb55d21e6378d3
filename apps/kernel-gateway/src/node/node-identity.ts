import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, hostname, totalmem } from 'node:os';
import { join } from 'node:path';
import { discoverGpus, findGpuType, type GpuTypeName } from '@kiln/scheduler';
import type { GatewayEnv } from '../env.ts';
import type { NodeIdentity } from './scheduler-node.ts';

/** `KILN_GPUS` ("T4:2,H100:1" or "none") as a declared inventory; unknown GPU names fail at start. */
export function declaredGpus(value: string): { type: GpuTypeName; count: number }[] {
  if (value === 'none') return [];
  return value.split(',').map((entry) => {
    const [name = '', count = ''] = entry.split(':');
    const type = findGpuType(name);
    if (!type) throw new Error(`KILN_GPUS: unknown GPU type ${JSON.stringify(name)}`);
    return { type: type.name, count: Number(count) };
  });
}

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;

/** The node id: `KILN_NODE_ID`, else this host and the port the gateway listens on. */
export function nodeId(env: GatewayEnv, port: number): string {
  return env.KILN_NODE_ID ?? `${hostname().replace(/[^A-Za-z0-9._:-]/g, '-')}-${port}`;
}

/**
 * The node id, kept in the state dir (`node-id`) from the first start: the scheduler pins volumes and
 * workspaces' /workspace folders to a node id, and they live on this state dir's disk, so a new hostname
 * or port must not make it another node. `KILN_NODE_ID` always wins.
 */
export async function lastingNodeId(env: GatewayEnv, port: number): Promise<string> {
  if (env.KILN_NODE_ID) return env.KILN_NODE_ID;
  const file = join(env.KILN_STATE_DIR, 'node-id');
  const kept = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (NODE_ID.test(kept)) return kept;
  const id = nodeId(env, port);
  await mkdir(env.KILN_STATE_DIR, { recursive: true });
  await writeFile(file, `${id}\n`);
  return id;
}

/**
 * This gateway's size as a node: the host's CPUs, memory and nvidia-smi GPUs unless configured. Several
 * nodes on one machine each declare their share.
 */
export async function nodeIdentity(env: GatewayEnv): Promise<NodeIdentity> {
  return {
    cpu: env.KILN_NODE_CPU ?? availableParallelism(),
    memoryMiB: env.KILN_NODE_MEMORY_MIB ?? Math.floor(totalmem() / (1024 * 1024)),
    gpus: await discoverGpus(env.KILN_GPUS ? { declared: declaredGpus(env.KILN_GPUS) } : {}),
  };
}
