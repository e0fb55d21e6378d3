import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedMinuteTotals, outboxMinuteTotals } from '../../test/minute-totals.ts';
import { priceVersionAt } from '../price-versions.ts';
import { DEFAULT_OUTBOX_OPTIONS } from './outbox.ts';

const MINUTE = 60_000;
const APPLICATION = 'kiln-rollup-process';
// outbox.ts's ROLLUP_LOCK_KEY as pg_locks shows an advisory lock on a bigint: high and low 32 bits.
const ROLLUP_LOCK = { classid: 0x6b, objid: 0x696c6e02 };
const script = fileURLToPath(new URL('../../test/rollup-process.ts', import.meta.url));

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase({ max: 4 });
});
afterAll(() => database?.drop());

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function startRollup(now: number): { child: ChildProcess; exited: Promise<Exit> } {
  const child = spawn(process.execPath, ['--import', 'tsx', script, database.url, String(now)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, exited };
}

async function rollupInProcess(now: number): Promise<number> {
  const { exited } = startRollup(now);
  const exit = await exited;
  expect(exit, exit.stderr).toMatchObject({ code: 0, signal: null });
  return (JSON.parse(exit.stdout.trim()) as { created: number }).created;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Backend {
  pid: number;
  xid: string | null;
  waitEventType: string | null;
  query: string;
  holdsRollupLock: boolean;
  outboxWriteLock: boolean;
  waitingOnLock: boolean;
}

/**
 * The rollup process's backend while its transaction is open and blocked on a lock the test holds:
 * from pg_stat_activity (in a transaction, waiting on a lock, with a transaction id, i.e. it has
 * written) and pg_locks (it holds the rollup's advisory lock and waits on an ungranted lock).
 */
async function blockedRollupBackend(): Promise<Backend | undefined> {
  const [row] = await database.db.$queryRaw<Backend[]>`
    SELECT a.pid, a.backend_xid::text AS xid, a.wait_event_type AS "waitEventType", a.query,
      EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = 'advisory' AND l.granted
              AND l.classid = ${ROLLUP_LOCK.classid}::int::oid AND l.objid = ${ROLLUP_LOCK.objid}::bigint::oid)
        AS "holdsRollupLock",
      EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = 'relation' AND l.granted
              AND l.relation = '"UsageOutbox"'::regclass AND l.mode = 'RowExclusiveLock') AS "outboxWriteLock",
      EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted) AS "waitingOnLock"
    FROM pg_stat_activity a
    WHERE a.datname = current_database() AND a.application_name = ${APPLICATION}
      AND a.xact_start IS NOT NULL AND a.state = 'active' AND a.wait_event_type = 'Lock'`;
  return row?.holdsRollupLock && row.waitingOnLock ? row : undefined;
}

/** What a run changes: each slice's rollup mark, and the outbox. */
async function rollupState() {
  const slices = await database.db.usageSlice.findMany({
    select: { id: true, rolledUntil: true, rollupDone: true },
    orderBy: { id: 'asc' },
  });
  const outbox = await database.db.usageOutbox.findMany({
    select: { id: true, value: true },
    orderBy: { id: 'asc' },
  });
  const cursor = await database.db.billingCursor.findUnique({ where: { name: 'usage-rollup' } });
  return { slices, outbox, cursor: cursor?.cursor ?? null };
}

/**
 * Holds a row lock in a transaction of the test's own until `release` is called, so that a rollup
 * that needs the row blocks inside its transaction.
 */
function holdRowLock(lock: string): { locked: Promise<void>; release: () => Promise<void> } {
  let release: () => void = () => undefined;
  let locked: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const lockedPromise = new Promise<void>((resolve) => {
    locked = resolve;
  });
  const done = database.db.$transaction(
    async (tx) => {
      await tx.$executeRawUnsafe(lock);
      locked();
      await released;
      throw new Error('rolled back on purpose');
    },
    { timeout: 120_000, maxWait: 10_000 },
  );
  return {
    locked: Promise.race([lockedPromise, done.then(() => undefined)]),
    release: async () => {
      release();
      await done.catch((error: Error) => expect(error.message).toBe('rolled back on purpose'));
    },
  };
}

/** Starts a rollup, waits until it provably sits in its open transaction on `lock`, then SIGKILLs it. */
async function killInsideTransaction(now: number, lock: string, expectOutboxWritten: boolean) {
  const before = await rollupState();
  const blocker = holdRowLock(lock);
  await blocker.locked;
  const { child, exited } = startRollup(now);
  const backend = await until('the rollup blocked in its transaction', blockedRollupBackend);
  // It has written in this transaction (slice marks at least), and past the insert into the outbox
  // when it waits on the cursor.
  expect(backend.xid).not.toBeNull();
  expect(backend.outboxWriteLock).toBe(expectOutboxWritten);
  child.kill('SIGKILL');
  expect(await exited).toMatchObject({ code: null, signal: 'SIGKILL' });
  // Unblocked, the orphaned backend finds its client gone and its transaction is rolled back.
  await blocker.release();
  await until('the killed rollup backend to end', async () => {
    const rows = await database.db.$queryRaw<
      unknown[]
    >`SELECT 1 FROM pg_stat_activity WHERE pid = ${backend.pid}`;
    return rows.length === 0 ? true : undefined;
  });
  expect(await rollupState()).toEqual(before);
  return backend;
}

describe('Stripe usage rollup killed mid-transaction', () => {
  it('loses and duplicates no usage second when its process is SIGKILLed inside the rollup transaction', async () => {
    const { db } = database;
    const suffix = randomBytes(4).toString('hex');
    const ws = await db.workspace.create({ data: { name: `ws ${suffix}`, slug: `ws-${suffix}` } });
    await db.billingAccount.create({
      data: {
        workspaceId: ws.id,
        stripeCustomerId: `cus_${suffix}`,
        hasPaymentMethod: true,
        updatedAt: new Date(),
      },
    });
    const t0 = Math.floor(Date.now() / MINUTE) * MINUTE - 180 * MINUTE;
    const version = await priceVersionAt(db, new Date(t0));
    // Twelve containers over the first hour, a few seconds to 40 minutes long; whole cores and GiB so
    // every meter's value is a whole number.
    let seed = 4242;
    const rand = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return Math.floor((seed / 2 ** 31) * n);
    };
    const sims = Array.from({ length: 12 }, (_, i) => {
      const start = t0 + rand(60 * MINUTE) + rand(1000);
      return {
        id: `${randomUUID()}:2`,
        start,
        end: start + 5_000 + rand(40 * MINUTE),
        gpus: i % 3 === 0 ? 0 : 1 + rand(2),
        cores: 1 + rand(4),
        gib: 1 + rand(8),
      };
    });
    // The ledger as it stands at `now`: started slices, open ones heartbeating until now.
    const advance = async (now: number) => {
      for (const sim of sims) {
        if (sim.start > now) continue;
        const closed = sim.end <= now;
        const data = {
          heartbeatAt: new Date(closed ? sim.end : now),
          endAt: closed ? new Date(sim.end) : null,
          endReason: closed ? 'stopped' : null,
        };
        await db.usageSlice.upsert({
          where: { id: sim.id },
          update: data,
          create: {
            id: sim.id,
            workspaceId: ws.id,
            containerId: sim.id.split(':')[0] as string,
            periodSeq: 2,
            kind: 'kernel',
            ownerId: 'nb',
            gpuType: sim.gpus ? 'H100' : null,
            gpuCount: sim.gpus,
            cpuMillicores: sim.cores * 1000,
            memoryMiB: sim.gib * 1024,
            priceVersionId: version.id,
            gpuRateFemto: 0n,
            cpuRateFemto: 0n,
            memRateFemto: 0n,
            startAt: new Date(sim.start),
            ...data,
          },
        });
      }
    };
    const settle = DEFAULT_OUTBOX_OPTIONS.settleMs;

    // A run that completes, so later runs have marks and a cursor row to start from.
    await advance(t0 + 20 * MINUTE);
    expect(await rollupInProcess(t0 + 20 * MINUTE + settle)).toBeGreaterThan(0);

    // Killed inside the rollup statement: blocked marking a slice the test holds locked.
    await advance(t0 + 35 * MINUTE);
    const open = await db.usageSlice.findFirst({ where: { rollupDone: false }, orderBy: { startAt: 'asc' } });
    expect(open).not.toBeNull();
    const marking = await killInsideTransaction(
      t0 + 35 * MINUTE + settle,
      `SELECT 1 FROM "UsageSlice" WHERE id = '${open?.id}' FOR UPDATE`,
      false,
    );
    expect(marking.query).toContain('rolledUntil');
    // The restarted process rolls the same minutes up.
    expect(await rollupInProcess(t0 + 35 * MINUTE + settle)).toBeGreaterThan(0);

    // Killed after inserting its outbox rows, blocked moving the rollup cursor.
    await advance(t0 + 50 * MINUTE);
    const moving = await killInsideTransaction(
      t0 + 50 * MINUTE + settle,
      `SELECT 1 FROM "BillingCursor" WHERE name = 'usage-rollup' FOR UPDATE`,
      true,
    );
    expect(moving.query).toContain('BillingCursor');
    expect(await rollupInProcess(t0 + 50 * MINUTE + settle)).toBeGreaterThan(0);

    // Everything closes; the last runs roll up the rest and then find nothing.
    const last = Math.max(...sims.map((sim) => sim.end));
    await advance(last);
    const final = Math.ceil(last / MINUTE) * MINUTE + settle + MINUTE;
    await rollupInProcess(final);
    expect(await rollupInProcess(final + 5 * MINUTE)).toBe(0);

    // Each millisecond of each slice, split into minutes, is in the outbox exactly once.
    const expected = expectedMinuteTotals(
      sims.map((sim) => ({
        workspaceId: ws.id,
        startAt: new Date(sim.start),
        endAt: new Date(sim.end),
        gpuCount: sim.gpus,
        cpuMillicores: sim.cores * 1000,
        memoryMiB: sim.gib * 1024,
      })),
    );
    const sent = outboxMinuteTotals(await db.usageOutbox.findMany({ where: { workspaceId: ws.id } }));
    expect(sent).toEqual(expected);
    expect(await db.usageSlice.count({ where: { rollupDone: false } })).toBe(0);
  }, 240_000);
});
