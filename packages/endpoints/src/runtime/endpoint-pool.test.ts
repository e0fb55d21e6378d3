import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, type EndpointSettings } from '../store/settings.ts';
import { BASE_SANDBOX } from '../store/version-sandbox.ts';
import { type CallOutcome, EndpointPool, type ServedVersion } from './endpoint-pool.ts';
import type { ExecuteOutcome, ReplicaHandle, ReplicaHost } from './replica-host.ts';

/** One execute a replica was sent and has not answered: the test answers it. */
interface Running {
  replica: string;
  code: string;
  answer(outcome: ExecuteOutcome): void;
}

/**
 * Replicas in this process that hold every call until the test answers it, so what the pool sends to
 * which replica, and when, can be read off exactly. Starts are immediate (`startedFrom` `module`: no
 * import to run first).
 */
function heldHost() {
  const running: Running[] = [];
  const started: string[] = [];
  const stopped: string[] = [];
  const interrupted: string[] = [];
  /** While set, an interrupt does not return until `release` is called. */
  const interrupts: { hold: boolean; release?: () => void } = { hold: false };
  const host: ReplicaHost = {
    async start() {
      const id = `replica-${started.length + 1}`;
      started.push(id);
      const handle: ReplicaHandle = {
        id,
        startedFrom: 'module',
        execute: (code, timeoutMs) => {
          // The pool's probe after an interrupt answers at once.
          if (code === 'pass') return Promise.resolve({ kind: 'ok', results: [] });
          return new Promise((resolve) => {
            // As a kernel replica does: past its timeout the call ends as `timeout` (it runs on).
            const timer = setTimeout(() => resolve({ kind: 'timeout' }), timeoutMs);
            const answer = (outcome: ExecuteOutcome) => {
              clearTimeout(timer);
              resolve(outcome);
            };
            running.push({ replica: id, code, answer });
          });
        },
        interrupt: async () => {
          interrupted.push(id);
          if (interrupts.hold) await new Promise<void>((resolve) => (interrupts.release = resolve));
        },
        onExit: () => undefined,
        stop: async () => {
          stopped.push(id);
        },
      };
      return handle;
    },
  };
  return { host, running, started, stopped, interrupted, interrupts };
}

/** An execution a FIFO replica holds: queued, or running at the head of its replica's queue. */
interface Queued {
  id: string | undefined;
  code: string;
  /** Ends it in the kernel (the caller may have stopped listening at its timeout). */
  end(outcome: ExecuteOutcome): void;
}

/**
 * Replicas that run what they are sent one at a time, in order, as the kernel agent does; an interrupt
 * raises KeyboardInterrupt in the execution running now, or with an execution id only if it is that
 * one, as the agent's handler does. The probe (`pass`) answers when it reaches the head. A call whose
 * kwargs say `"late": true` ends in the kernel at the moment its caller's timeout fires: the interrupt
 * for it arrives when the next execution already runs.
 */
function fifoHost() {
  const queues = new Map<string, Queued[]>();
  const stopped: string[] = [];
  const interrupted: (string | undefined)[] = [];
  const advance = (queue: Queued[]) => {
    while (queue[0]?.code === 'pass') (queue.shift() as Queued).end({ kind: 'ok', results: [] });
  };
  const host: ReplicaHost = {
    async start() {
      const id = `replica-${queues.size + 1}`;
      const queue: Queued[] = [];
      queues.set(id, queue);
      return {
        id,
        startedFrom: 'module',
        execute: (code, timeoutMs, executionId) =>
          new Promise<ExecuteOutcome>((resolve) => {
            let answered = false;
            const entry: Queued = {
              id: executionId,
              code,
              end: (outcome) => {
                queue.splice(queue.indexOf(entry), 1);
                advance(queue);
                if (!answered) resolve(outcome);
                answered = true;
              },
            };
            setTimeout(() => {
              if (answered) return;
              answered = true;
              if (code.includes('\\"late\\": true')) entry.end({ kind: 'ok', results: [] });
              resolve({ kind: 'timeout' });
            }, timeoutMs);
            queue.push(entry);
            advance(queue);
          }),
        interrupt: async (executionId) => {
          interrupted.push(executionId);
          const running = queue[0];
          if (running && (executionId === undefined || running.id === executionId))
            running.end({ kind: 'error', ename: 'KeyboardInterrupt', error: 'KeyboardInterrupt' });
        },
        onExit: () => undefined,
        stop: async () => {
          stopped.push(id);
        },
      };
    },
  };
  /** Answers the execution running now on `replica` with `outcome`. */
  const answerHead = (replica: string, outcome: ExecuteOutcome) => queues.get(replica)?.[0]?.end(outcome);
  const depth = (replica: string) => queues.get(replica)?.length ?? 0;
  return { host, stopped, interrupted, answerHead, depth };
}

const version: ServedVersion = {
  id: 'v1',
  source: 'def echo(x=0):\n    return x\n',
  functionName: 'echo',
  isAsync: false,
  sandbox: BASE_SANDBOX,
};

const pools: EndpointPool[] = [];

function poolWith(settings: Partial<EndpointSettings>, host: ReplicaHost) {
  const pool = new EndpointPool(
    {
      endpointId: 'e1',
      workspaceId: 'w1',
      settings: { ...DEFAULT_SETTINGS, scaleDownSeconds: 600, ...settings },
      version,
      stamp: 1,
    },
    host,
  );
  pools.push(pool);
  return pool;
}

/** Resolves once `predicate` holds (checked on every turn of the event loop). */
async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const ok = (value: number): ExecuteOutcome => ({
  kind: 'ok',
  results: [{ status: 'ok', body: String(value) }],
});

afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close('test over')));
});

describe('EndpointPool', () => {
  it('sends one replica up to targetConcurrency calls at once, and the next call when one ends', async () => {
    const { host, running, started } = heldHost();
    const pool = poolWith({ targetConcurrency: 3, maxReplicas: 1 }, host);
    const calls = [1, 2, 3, 4].map((x) => pool.call(`{"x": ${x}}`));
    await until(() => running.length === 3, 'three calls running');
    expect(started).toEqual(['replica-1']);
    expect(running.map((r) => r.replica)).toEqual(['replica-1', 'replica-1', 'replica-1']);
    expect(pool.waiting).toBe(1);
    expect(pool.status()).toMatchObject([{ id: 'replica-1', state: 'busy', calls: 3 }]);

    (running.shift() as Running).answer(ok(1));
    await until(() => running.length === 3 && pool.waiting === 0, 'the fourth call sent');
    expect(running.at(-1)?.code).toContain('{\\"x\\": 4}');
    for (const call of running.splice(0)) call.answer(ok(7));
    const outcomes: CallOutcome[] = await Promise.all(calls);
    expect(outcomes.map((o) => [o.status, o.body, o.replicaId])).toEqual([
      [200, '1', 'replica-1'],
      [200, '7', 'replica-1'],
      [200, '7', 'replica-1'],
      [200, '7', 'replica-1'],
    ]);
    expect(pool.status()).toMatchObject([{ state: 'idle', calls: 4 }]);
  });

  it('starts replicas for the load divided by targetConcurrency, and spreads calls over them', async () => {
    const { host, running, started } = heldHost();
    const pool = poolWith({ targetConcurrency: 2, maxReplicas: 4 }, host);
    const calls = Array.from({ length: 4 }, (_, i) => pool.call(`{"x": ${i}}`));
    await until(() => running.length === 4, 'four calls running');
    expect(started).toHaveLength(2);
    const perReplica = new Map<string, number>();
    for (const call of running) perReplica.set(call.replica, (perReplica.get(call.replica) ?? 0) + 1);
    expect([...perReplica.values()]).toEqual([2, 2]);
    for (const call of running.splice(0)) call.answer(ok(0));
    expect((await Promise.all(calls)).every((o) => o.status === 200)).toBe(true);
  });

  it('keeps one call per replica with targetConcurrency 1', async () => {
    const { host, running, started } = heldHost();
    const pool = poolWith({ targetConcurrency: 1, maxReplicas: 1 }, host);
    const first = pool.call('{}');
    const second = pool.call('{}');
    await until(() => running.length === 1 && pool.waiting === 1, 'one call running, one waiting');
    expect(started).toHaveLength(1);
    (running.shift() as Running).answer(ok(1));
    await until(() => running.length === 1 && pool.waiting === 0, 'the second call sent');
    (running.shift() as Running).answer(ok(2));
    expect((await first).body).toBe('1');
    expect((await second).body).toBe('2');
  });

  it('sends a replica no new call while it recovers from a timed-out one; calls running on it still end', async () => {
    const { host, running, interrupted, interrupts } = heldHost();
    const pool = poolWith({ targetConcurrency: 2, maxReplicas: 1, timeoutSeconds: 3 }, host);
    interrupts.hold = true;
    // The first call never answers (it times out); the second, sent 1.5 s later, is still running then.
    const stuck = pool.call('{"x": 1}');
    await until(() => running.length === 1, 'the first call running');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const other = pool.call('{"x": 2}');
    await until(() => running.length === 2, 'two calls running');
    expect(await stuck).toMatchObject({ status: 504, replicaId: 'replica-1' });
    await until(() => interrupted.length === 1, 'the interrupt');
    // One call runs on a replica that takes two, but it is recovering: a new call waits.
    const during = pool.call('{"x": 3}');
    await until(() => pool.waiting === 1, 'the new call waiting');
    expect(running).toHaveLength(2);
    (running[1] as Running).answer(ok(2));
    expect(await other).toMatchObject({ status: 200, body: '2' });
    expect(pool.waiting).toBe(1);
    // The interrupt returns and the probe answers: the replica takes the waiting call.
    interrupts.release?.();
    await until(() => running.length === 3, 'the waiting call sent after recovery');
    (running[2] as Running).answer(ok(3));
    expect(await during).toMatchObject({ status: 200, body: '3', replicaId: 'replica-1' });
  });

  it('lets replicas already up take waiting calls when targetConcurrency is raised', async () => {
    const { host, running } = heldHost();
    const config = {
      endpointId: 'e1',
      workspaceId: 'w1',
      settings: { ...DEFAULT_SETTINGS, targetConcurrency: 1, maxReplicas: 1, scaleDownSeconds: 600 },
      version,
      stamp: 1,
    };
    const pool = new EndpointPool(config, host);
    pools.push(pool);
    const calls = [pool.call('{}'), pool.call('{}')];
    await until(() => running.length === 1 && pool.waiting === 1, 'one running, one waiting');
    pool.update({ ...config, settings: { ...config.settings, targetConcurrency: 2 }, stamp: 2 });
    await until(() => running.length === 2 && pool.waiting === 0, 'both running');
    for (const call of running.splice(0)) call.answer(ok(0));
    expect((await Promise.all(calls)).map((o) => o.status)).toEqual([200, 200]);
  });

  it('interrupts only the timed-out call: a call that runs after it on the same replica is answered, not hit', async () => {
    const { host, stopped, interrupted, answerHead, depth } = fifoHost();
    const pool = poolWith({ targetConcurrency: 2, maxReplicas: 1, timeoutSeconds: 2 }, host);
    // The first call ends just as its caller's 2 s run out; the second is queued behind it on the replica.
    const late = pool.call('{"late": true}');
    await until(() => depth('replica-1') === 1, 'the first call sent');
    const next = pool.call('{"x": 2}');
    await until(() => depth('replica-1') === 2, 'the second call queued on the replica');
    // What the first caller sees: a 504 naming the endpoint's timeout.
    expect(await late).toMatchObject({ status: 504, error: expect.stringContaining('timeout of 2 s') });
    await until(() => interrupted.length === 1, 'the interrupt for the timed-out call');
    // The second call is running now; the interrupt was for the first, so it runs on and answers.
    answerHead('replica-1', ok(2));
    expect(await next).toMatchObject({ status: 200, body: '2', replicaId: 'replica-1' });
    // The replica recovers and keeps serving; nothing was stopped.
    const after = pool.call('{"x": 3}');
    await until(() => depth('replica-1') === 1, 'the third call sent');
    answerHead('replica-1', ok(3));
    expect(await after).toMatchObject({ status: 200, body: '3', replicaId: 'replica-1' });
    expect(stopped).toEqual([]);
  });

  it('interrupts a timed-out call that is still running, so the call queued behind it is answered', async () => {
    const { host, stopped, answerHead, depth } = fifoHost();
    const pool = poolWith({ targetConcurrency: 2, maxReplicas: 1, timeoutSeconds: 2 }, host);
    const stuck = pool.call('{"x": 1}');
    await until(() => depth('replica-1') === 1, 'the first call sent');
    const queued = pool.call('{"x": 2}');
    await until(() => depth('replica-1') === 2, 'the second call queued on the replica');
    // The first caller gets its 504; the interrupt ends that call, and the one behind it runs.
    expect(await stuck).toMatchObject({ status: 504 });
    await until(() => depth('replica-1') === 1, 'the timed-out call interrupted');
    answerHead('replica-1', ok(2));
    expect(await queued).toMatchObject({ status: 200, body: '2' });
    expect(stopped).toEqual([]);
  });
});
