import { randomBytes } from 'node:crypto';
import type { PlanTier } from '@kiln/billing';
import { DomainError } from '@kiln/core';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { discoverGpus } from '../src/gpu-inventory.ts';
import type { GpuTypeName } from '../src/gpu-types.ts';
import { createScheduler, type Scheduler } from '../src/scheduler.ts';
import type { SchedulerOptions } from '../src/scheduler-options.ts';

export interface TestCluster {
  scheduler: Scheduler;
  /** A workspace on `plan`; returns its id. */
  workspace(plan?: PlanTier): Promise<string>;
  /** Registers a node with a declared inventory. */
  node(
    id: string,
    gpus: { type: GpuTypeName; count: number }[],
    size?: { cpu?: number; memoryMiB?: number },
  ): Promise<void>;
  /** Waits for the scheduler's background work. */
  close(): Promise<void>;
}

/**
 * An empty cluster in `database` (a test file's own database, see createTestDatabase) and a scheduler
 * over it. Earlier tests' nodes and containers are removed first, so each test starts from nothing.
 */
export async function createTestCluster(
  database: TestDatabase,
  options: Partial<SchedulerOptions> = {},
): Promise<TestCluster> {
  await database.db.$executeRaw`TRUNCATE "ContainerEvent", "NodeGpu", "Container", "Node" CASCADE`;
  const scheduler = createScheduler({ ...options, db: database.db });
  return {
    scheduler,
    async workspace(plan = 'STARTER') {
      const suffix = randomBytes(4).toString('hex');
      const row = await database.db.workspace.create({
        data: { name: `ws ${suffix}`, slug: `ws-${suffix}`, plan },
      });
      return row.id;
    },
    async node(id, gpus, size = {}) {
      await scheduler.registerNode({
        id,
        url: `http://127.0.0.1:1/${id}`,
        cpu: size.cpu ?? 64,
        memoryMiB: size.memoryMiB ?? 256 * 1024,
        gpus: await discoverGpus({ declared: gpus }),
      });
    },
    close: () => scheduler.close(),
  };
}

/**
 * One test database for the calling file and one cluster per test over it, closed after each test:
 * `start` makes the test's cluster (a test makes one).
 */
export function clusterPerTest(options: { max?: number } = {}): {
  readonly database: TestDatabase;
  start(options?: Partial<SchedulerOptions>): Promise<TestCluster>;
} {
  let database: TestDatabase | undefined;
  let cluster: TestCluster | undefined;
  beforeAll(async () => {
    database = await createTestDatabase({ max: options.max ?? 6 });
  });
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });
  afterAll(() => database?.drop());
  const made = (): TestDatabase => {
    if (!database) throw new Error('the test database is made in beforeAll');
    return database;
  };
  return {
    get database() {
      return made();
    },
    async start(schedulerOptions = {}) {
      cluster = await createTestCluster(made(), schedulerOptions);
      return cluster;
    },
  };
}

/** The DomainError `promise` rejects with (fails the test when it resolves or throws something else). */
export async function refusal(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(error)}`);
  return error;
}
