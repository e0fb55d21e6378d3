/**
 * CPU time spent on a measured path, from /proc and the sandboxes' cpuacct cgroups: on a shared,
 * loaded machine wall-clock throughput mostly says how much CPU each side got; CPU per byte says
 * what each side costs.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from './servers.ts';

const TICK_MS = 10;

function statFields(pid: string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** User + system CPU ms of `root` and every process below it. */
function treeCpuMs(root: number): number {
  const children = new Map<string, string[]>();
  const cpu = new Map<string, number>();
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    const fields = statFields(pid);
    if (!fields) continue;
    const ppid = fields[1] as string;
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    cpu.set(pid, (Number(fields[11]) + Number(fields[12])) * TICK_MS);
  }
  let total = 0;
  const queue = [String(root)];
  while (queue.length > 0) {
    const pid = queue.pop() as string;
    total += cpu.get(pid) ?? 0;
    queue.push(...(children.get(pid) ?? []));
  }
  return total;
}

/** CPU ms of every sandbox this Kiln server runs now (runsc detaches them from the gateway's tree). */
function sandboxCpuMs(server: Server): Map<string, number> {
  const ids = execFileSync(
    'runsc',
    [`--root=${join(server.stateDir as string, 'runsc')}`, 'list', '-quiet'],
    {
      encoding: 'utf8',
    },
  )
    .split('\n')
    .filter(Boolean);
  const out = new Map<string, number>();
  for (const id of ids) {
    try {
      out.set(id, Number(readFileSync(`/sys/fs/cgroup/cpuacct/kiln/${id}/cpuacct.usage`, 'utf8')) / 1e6);
    } catch {
      // gone between the listing and the read
    }
  }
  return out;
}

export interface CpuSample {
  client: number;
  server: number;
  sandboxes: Map<string, number>;
}

export function sampleCpu(server: Server): CpuSample {
  const usage = process.cpuUsage();
  return {
    client: (usage.user + usage.system) / 1000,
    server: treeCpuMs(server.process.pid as number),
    sandboxes: server.stateDir ? sandboxCpuMs(server) : new Map(),
  };
}

/** CPU ms spent between two samples: the client, the server's process tree, and (Kiln) its sandboxes. */
export function cpuSpent(before: CpuSample, after: CpuSample) {
  let sandboxes = 0;
  for (const [id, ms] of after.sandboxes) sandboxes += ms - (before.sandboxes.get(id) ?? 0);
  const spent = { client: after.client - before.client, server: after.server - before.server, sandboxes };
  return { ...spent, total: spent.client + spent.server + spent.sandboxes };
}
