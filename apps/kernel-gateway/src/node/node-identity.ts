import { availableParallelism, hostname, totalmem } from 'node:os';
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

/** The node id: `KILN_NODE_ID`, else this host and the port the gateway listens on. */
export function nodeId(env: GatewayEnv, port: number): string {
  return env.KILN_NODE_ID ?? `${hostname().replace(/[^A-Za-z0-9._:-]/g, '-')}-${port}`;
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
