import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { type StripeLocal, signPayload, startStripeLocal } from '@kiln/stripe-local';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spendSummary } from '../account/spend.ts';
import { priceVersionAt } from '../price-versions.ts';
import { type Catalog, ensureCatalog } from './catalog.ts';
import { createPortalSession, createUpgradeCheckout } from './checkout.ts';
import { createStripeClient } from './client.ts';
import { rollupUsage, sendOutbox } from './outbox.ts';
import { reconcileUsage } from './reconcile.ts';
import { handleStripeWebhook, type WebhookOutcome } from './webhooks.ts';

const SECRET = `whsec_${randomBytes(8).toString('hex')}`;
let database: TestDatabase;
let local: StripeLocal;
let stripe: Stripe;
let catalog: Catalog;
let hookServer: Server;
const outcomes: (WebhookOutcome | string)[] = [];

beforeAll(async () => {
  database = await createTestDatabase({ max: 6 });
  // Kiln's webhook endpoint: the raw body, verified and applied by handleStripeWebhook.
  hookServer = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handleStripeWebhook(database.db, stripe, {
        rawBody: Buffer.concat(chunks).toString('utf8'),
        signature: String(req.headers['stripe-signature']),
        secret: SECRET,
      })
        .then((outcome) => {
          outcomes.push(outcome);
          res.end(outcome);
        })
        .catch((error: { code?: string }) => {
          outcomes.push(`error:${error.code}`);
          res.statusCode = error.code === 'FORBIDDEN' ? 400 : 500;
          res.end();
        });
    });
  });
  await new Promise<void>((resolve) => hookServer.listen(0, '127.0.0.1', resolve));
  const hookUrl = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/api/stripe/webhook`;
  local = await startStripeLocal({ webhooks: [{ url: hookUrl, secret: SECRET }] });
  stripe = createStripeClient({ localUrl: local.url });
  catalog = await ensureCatalog(database.db, stripe, { baseCents: 25_000 });
});
afterAll(async () => {
  await local?.close();
  await new Promise((resolve) => hookServer?.close(resolve));
  await database?.drop();
});

async function workspace(): Promise<string> {
  const suffix = randomBytes(4).toString('hex');
  return (await database.db.workspace.create({ data: { name: `ws ${suffix}`, slug: `ws-${suffix}` } })).id;
}

async function payCheckout(url: string): Promise<void> {
  const id = new URL(url).pathname.split('/').pop();
  const paid = await fetch(`${local.url}/checkout/${id}/complete`, {
    method: 'POST',
    body: new URLSearchParams({ email: 'a@example.com' }),
    redirect: 'manual',
  });
  expect(paid.status).toBe(303);
  await local.deliveries.idle();
}

describe('Stripe flows against the local server', () => {
  it('the catalog is made once: one meter per dimension, base and metered prices', async () => {
    const again = await ensureCatalog(database.db, stripe, { baseCents: 25_000 });
    expect(again).toEqual(catalog);
    expect(Object.keys(catalog.meters)).toContain('kiln_gpu_ms_h100');
    expect(Object.keys(catalog.meters)).toHaveLength(12);
    expect(local.state.list('billing.meter')).toHaveLength(12);
  });

  it('upgrades through Checkout: Team plan and $100 credits at once; replays apply nothing twice', async () => {
    const ws = await workspace();
    const url = await createUpgradeCheckout(database.db, stripe, catalog, {
      workspaceId: ws,
      successUrl: 'http://127.0.0.1:1/ok',
      cancelUrl: 'http://127.0.0.1:1/no',
    });
    outcomes.length = 0;
    await payCheckout(url);
    expect(outcomes).toEqual(['ignored', 'applied', 'applied']);
    const summary = await spendSummary(database.db, ws);
    expect(summary.plan).toBe('TEAM');
    expect(summary.creditMicros).toBe(100_000_000n);
    expect(summary.hasPaymentMethod).toBe(true);
    expect(local.state.list('billing.credit_grant')).toHaveLength(1);
    // Stripe delivers again (retries, duplicates): nothing is applied twice.
    for (const event of [...local.state.events]) await local.deliveries.deliver(event);
    expect(outcomes.slice(3)).toEqual(['ignored', 'duplicate', 'duplicate']);
    expect(local.state.list('billing.credit_grant')).toHaveLength(1);
    expect((await spendSummary(database.db, ws)).creditMicros).toBe(100_000_000n);
    const portal = await createPortalSession(database.db, stripe, ws, 'http://127.0.0.1:1/back');
    expect(await (await fetch(portal)).text()).toContain('Cancel plan');
  });

  it('refuses forged webhooks and ends on the current state when events arrive out of order', async () => {
    const ws = await workspace();
    const url = await createUpgradeCheckout(database.db, stripe, catalog, {
      workspaceId: ws,
      successUrl: 'http://127.0.0.1:1/ok',
      cancelUrl: 'http://127.0.0.1:1/no',
    });
    await payCheckout(url);
    const account = await database.db.billingAccount.findUniqueOrThrow({ where: { workspaceId: ws } });
    // Forged: signed with another secret, or the body changed after signing.
    const forged = JSON.stringify({
      id: `evt_${randomUUID()}`,
      object: 'event',
      type: 'customer.subscription.deleted',
      data: { object: { id: account.stripeSubscriptionId, customer: account.stripeCustomerId } },
    });
    await expect(
      handleStripeWebhook(database.db, stripe, {
        rawBody: forged,
        signature: signPayload(forged, 'whsec_wrong', Math.floor(Date.now() / 1000)),
        secret: SECRET,
      }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(
      handleStripeWebhook(database.db, stripe, { rawBody: forged, signature: null, secret: SECRET }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect((await spendSummary(database.db, ws)).plan).toBe('TEAM');
    // Cancelled in the portal; then a stale checkout.session.completed arrives late.
    const portal = await createPortalSession(database.db, stripe, ws, 'http://127.0.0.1:1/back');
    const portalId = new URL(portal).pathname.split('/').pop();
    await fetch(`${local.url}/portal/${portalId}/cancel/${account.stripeSubscriptionId}`, {
      method: 'POST',
      redirect: 'manual',
    });
    await local.deliveries.idle();
    expect((await spendSummary(database.db, ws)).plan).toBe('STARTER');
    const completed = local.state.events.find(
      (e) =>
        e.type === 'checkout.session.completed' &&
        (e.data as { object: { client_reference_id: string } }).object.client_reference_id === ws,
    );
    if (!completed) throw new Error('no checkout.session.completed event');
    await local.deliveries.deliver({ ...completed, id: `evt_late_${randomBytes(6).toString('hex')}` });
    expect((await spendSummary(database.db, ws)).plan).toBe('STARTER');
    // A failed payment marks the workspace past due.
    const sub = local.state.list('subscription', (s) => s.customer === account.stripeCustomerId)[0];
    if (!sub) throw new Error('no subscription');
    sub.status = 'active';
    local.emit(
      'invoice.payment_failed',
      local.state.create('in', 'invoice', {
        customer: account.stripeCustomerId,
        subscription: sub.id,
        billing_reason: 'subscription_cycle',
        status: 'open',
        period_start: 0,
        period_end: 0,
      }),
    );
    await local.deliveries.idle();
    const summary = await spendSummary(database.db, ws);
    expect(summary.check).toMatchObject({ allowed: false, code: 'PAST_DUE' });
  });

  it('reports usage once per customer, meter and minute, and reconciles with the meter summaries', async () => {
    const ws = await workspace();
    const url = await createUpgradeCheckout(database.db, stripe, catalog, {
      workspaceId: ws,
      successUrl: 'http://127.0.0.1:1/ok',
      cancelUrl: 'http://127.0.0.1:1/no',
    });
    await payCheckout(url);
    const now = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    const start = new Date(now.getTime() - 10 * 60_000);
    const version = await priceVersionAt(database.db, start);
    // 90 s of one H100 with 2 cores and 4 GiB, starting 10 minutes ago.
    await database.db.usageSlice.create({
      data: {
        id: `${randomUUID()}:2`,
        workspaceId: ws,
        containerId: randomUUID(),
        periodSeq: 2,
        kind: 'kernel',
        ownerId: 'nb',
        gpuType: 'H100',
        gpuCount: 1,
        cpuMillicores: 2000,
        memoryMiB: 4096,
        priceVersionId: version.id,
        gpuRateFemto: 1_097_000_000n,
        cpuRateFemto: 26_200_000n,
        memRateFemto: 8_880_000n,
        startAt: new Date(start.getTime() + 30_000),
        heartbeatAt: new Date(start.getTime() + 120_000),
        endAt: new Date(start.getTime() + 120_000),
        endReason: 'stopped',
      },
    });
    if (!(await database.db.priceVersion.findFirst()))
      await database.db
        .$executeRaw`INSERT INTO "PriceVersion" ("effectiveFrom", prices) VALUES (to_timestamp(0), '{"minimumCpuMillicores":125}')`;
    await database.db.billingCursor.deleteMany({ where: { name: 'usage-rollup' } });
    expect(await rollupUsage(database.db, now)).toBeGreaterThan(0);
    expect(await rollupUsage(database.db, now)).toBe(0);
    const rows = await database.db.usageOutbox.findMany({
      where: { workspaceId: ws },
      orderBy: { windowStart: 'asc' },
    });
    const gpu = rows.filter((r) => r.eventName === 'kiln_gpu_ms_h100').map((r) => Number(r.value));
    expect(gpu).toEqual([30_000, 60_000]);
    expect(rows.filter((r) => r.eventName === 'kiln_cpu_core_ms').reduce((s, r) => s + r.value, 0n)).toBe(
      180_000n,
    );
    expect(rows.filter((r) => r.eventName === 'kiln_memory_gib_ms').reduce((s, r) => s + r.value, 0n)).toBe(
      360_000n,
    );
    expect(await sendOutbox(database.db, stripe, now)).toMatchObject({ accepted: rows.length, rejected: 0 });
    // A crash after Stripe took the events but before Kiln marked them: sent again, counted once.
    await database.db.usageOutbox.updateMany({ where: { workspaceId: ws }, data: { status: 'pending' } });
    expect(await sendOutbox(database.db, stripe, now)).toMatchObject({ accepted: rows.length });
    const from = new Date(start.getTime() - 60 * 60_000);
    const to = new Date(now.getTime() + 60_000);
    expect(
      await reconcileUsage(database.db, stripe, { start: from, end: to, meters: catalog.meters }),
    ).toEqual([]);
    // Stripe missing usage is reported, not read as zero.
    local.state.meterEvents.splice(0, local.state.meterEvents.length);
    const differences = await reconcileUsage(database.db, stripe, {
      start: from,
      end: to,
      meters: catalog.meters,
    });
    expect(differences.map((d) => d.eventName).sort()).toEqual([
      'kiln_cpu_core_ms',
      'kiln_gpu_ms_h100',
      'kiln_memory_gib_ms',
    ]);
  });

  it('a rejected row raises an alert instead of reading as zero usage', async () => {
    const ws = await workspace();
    await database.db.usageOutbox.create({
      data: {
        id: `${ws}:kiln_cpu_core_ms:1`,
        workspaceId: ws,
        customerId: 'cus_missing',
        eventName: 'kiln_cpu_core_ms',
        windowStart: new Date(Date.now() - 5 * 60_000),
        value: 5n,
        nextAttemptAt: new Date(0),
      },
    });
    const result = await sendOutbox(database.db, stripe, new Date());
    expect(result.rejected).toBeGreaterThanOrEqual(1);
    const row = await database.db.usageOutbox.findUniqueOrThrow({
      where: { id: `${ws}:kiln_cpu_core_ms:1` },
    });
    expect(row.status).toBe('rejected');
    const alerts = await database.db.billingAlert.findMany({ where: { workspaceId: ws } });
    expect(alerts.map((a) => a.kind)).toEqual(['usage_rejected']);
  });
});
