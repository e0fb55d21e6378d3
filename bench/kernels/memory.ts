/** Memory per idle kernel, read from /proc and the kernels' memory cgroups. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from './servers.ts';

const kib = (text: string, key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
/** Resident and proportional (shared pages split between their users) set sizes of a process, MiB. */
function processMemory(pid: string): { rss: number; pss: number } {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    return { rss: kib(rollup, 'Rss') / 1024, pss: kib(rollup, 'Pss') / 1024 };
  } catch {
    return { rss: 0, pss: 0 };
  }
}
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

/** ipykernel processes under a Jupyter Server. */
function jupyterKernelPids(server: Server): string[] {
  const parent = String(server.process.pid);
  return readdirSync('/proc').filter((pid) => {
    if (!/^\d+$/.test(pid)) return false;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
      return ppid === parent && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('ipykernel');
    } catch {
      return false;
    }
  });
}

/**
 * Memory per idle kernel of `server` now: for Kiln the memory cgroup's charge and RSS/PSS summed over
 * each sandbox's processes; for Jupyter each ipykernel's RSS/PSS.
 */
export function sampleKernelMemory(server: Server) {
  if (!server.stateDir) {
    const each = jupyterKernelPids(server).map(processMemory);
    return { n: each.length, rss: mean(each.map((m) => m.rss)), pss: mean(each.map((m) => m.pss)) };
  }
  const list = execFileSync('runsc', [`--root=${join(server.stateDir, 'runsc')}`, 'list', '-quiet'], {
    encoding: 'utf8',
  });
  const each = list
    .split('\n')
    .filter(Boolean)
    .map((id) => {
      const cgroup = `/sys/fs/cgroup/memory/kiln/${id}`;
      const pids = readFileSync(`${cgroup}/cgroup.procs`, 'utf8').trim().split('\n').filter(Boolean);
      const procs = pids.map(processMemory);
      return {
        charged: Number(readFileSync(`${cgroup}/memory.usage_in_bytes`, 'utf8')) / 1024 / 1024,
        rss: procs.reduce((a, m) => a + m.rss, 0),
        pss: procs.reduce((a, m) => a + m.pss, 0),
      };
    });
  return {
    n: each.length,
    charged: mean(each.map((m) => m.charged)),
    rss: mean(each.map((m) => m.rss)),
    pss: mean(each.map((m) => m.pss)),
  };
}
