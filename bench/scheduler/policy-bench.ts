import { performance } from 'node:perf_hooks';
import {
  applyDecision,
  firstFit,
  type NodeCapacity,
  type PlacementDecision,
  type PlacementRequest,
  place,
  releaseDecision,
} from '@kiln/scheduler/policy';
import { cloneNodes, type WorkloadRequest } from './workload.ts';

type Policy = (nodes: readonly NodeCapacity[], request: PlacementRequest) => PlacementDecision | null;

export interface PolicyResult {
  /**
   * Requests placed per second of CPU time this process used (choice plus bookkeeping, ends included),
   * median of the runs: what one core does, whatever else shares the machine.
   */
  placementsPerCpuSecond: number;
  /** The same per second of wall-clock time, which other work on the machine slows down. */
  placementsPerSecond: number;
  /** Requests decided per second, placed or not. */
  decisionsPerSecond: number;
  runsMs: number[];
  /** Share of all GPUs in use when the first request found no room (it would have to queue). */
  gpuShareAtFirstQueue: number;
  /** Which request that was (0-based), and what it asked for. */
  firstQueued: { index: number; wanted: string };
  /** Requests that found no room (they would queue). */
  queued: number;
  /**
   * Of those, requests that would have fit had the free GPUs of a type they accept been on one node:
   * the cluster had enough free devices, spread over too many nodes. The cost of fragmentation.
   */
  queuedByFragmentation: number;
  /** Of those, requests for 8 GPUs. */
  queuedEightGpu: number;
  /** Mean share of GPUs in use over the second half of the run, when the cluster is full. */
  meanGpuShareWhenFull: number;
  placed: number;
}

/**
 * Offers the requests in order, one per time step, to a fresh copy of the cluster; a placed container
 * ends after its lifetime (in steps). A request that finds no room is counted as queued and dropped,
 * so both policies see the same arrivals.
 */
function pass(policy: Policy, empty: NodeCapacity[], requests: WorkloadRequest[]) {
  const nodes = cloneNodes(empty);
  const total = nodes.length * 8;
  const freeByType = new Map<string, number>();
  for (const node of nodes) {
    for (const [type, list] of Object.entries(node.freeGpus)) {
      freeByType.set(type, (freeByType.get(type) ?? 0) + (list?.length ?? 0));
    }
  }
  const take = (decision: PlacementDecision, sign: number) => {
    if (!decision.choice) return;
    const type = decision.choice.type;
    freeByType.set(type, (freeByType.get(type) ?? 0) + sign * decision.gpuIndices.length);
  };
  let queuedByFragmentation = 0;
  const ending: { at: number; request: WorkloadRequest; decision: PlacementDecision }[][] = [];
  let used = 0;
  let placed = 0;
  let queued = 0;
  let queuedEightGpu = 0;
  let shareSum = 0;
  let firstQueued: { index: number; share: number; wanted: string } | null = null;
  const cpuStarted = process.cpuUsage();
  const started = performance.now();
  for (let step = 0; step < requests.length; step++) {
    for (const gone of ending[step] ?? []) {
      releaseDecision(nodes, gone.request, gone.decision);
      used -= gone.decision.gpuIndices.length;
      take(gone.decision, 1);
    }
    const request = requests[step] as WorkloadRequest;
    const decision = policy(nodes, request);
    if (decision) {
      applyDecision(nodes, request, decision);
      used += decision.gpuIndices.length;
      take(decision, -1);
      placed++;
      const end = step + request.lifetime;
      if (end < requests.length) {
        const list = ending[end] ?? [];
        list.push({ at: end, request, decision });
        ending[end] = list;
      }
    } else {
      queued++;
      if ((request.gpu[0]?.count ?? 0) === 8) queuedEightGpu++;
      if (request.gpu.some((choice) => (freeByType.get(choice.type) ?? 0) >= choice.count))
        queuedByFragmentation++;
      if (!firstQueued) {
        const wanted = request.gpu.map((c) => `${c.type}:${c.count}`).join(' or ') || `${request.cpu} CPU`;
        firstQueued = { index: step, share: used / total, wanted };
      }
    }
    if (step >= requests.length / 2) shareSum += used / total;
  }
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuStarted);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const meanShare = shareSum / (requests.length / 2);
  return { ms, cpuMs, placed, queued, queuedEightGpu, queuedByFragmentation, firstQueued, meanShare };
}

/** Runs a policy `runs` times over the same workload (after one warm-up run); packing is the same each run. */
export function benchPolicy(
  policy: Policy,
  nodes: NodeCapacity[],
  requests: WorkloadRequest[],
  runs: number,
): PolicyResult {
  pass(policy, nodes, requests);
  const results = Array.from({ length: runs }, () => pass(policy, nodes, requests));
  const runsMs = results.map((result) => result.ms).sort((a, b) => a - b);
  const median = runsMs[Math.floor(runsMs.length / 2)] as number;
  const last = results[results.length - 1] as ReturnType<typeof pass>;
  const cpuMs = results.map((result) => result.cpuMs).sort((a, b) => a - b);
  return {
    placementsPerCpuSecond: last.placed / ((cpuMs[Math.floor(cpuMs.length / 2)] as number) / 1000),
    placementsPerSecond: last.placed / (median / 1000),
    decisionsPerSecond: requests.length / (median / 1000),
    runsMs: runsMs.map((n) => Number(n.toFixed(1))),
    gpuShareAtFirstQueue: last.firstQueued?.share ?? Number.NaN,
    firstQueued: { index: last.firstQueued?.index ?? -1, wanted: last.firstQueued?.wanted ?? 'none' },
    queued: last.queued,
    queuedByFragmentation: last.queuedByFragmentation,
    queuedEightGpu: last.queuedEightGpu,
    meanGpuShareWhenFull: last.meanShare,
    placed: last.placed,
  };
}

export const POLICIES: Record<'bestFit' | 'firstFit', Policy> = { bestFit: place, firstFit };
