import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import { type StripeLocal, startStripeLocal } from './server.ts';

const SECRET = 'whsec_local_test_secret';
let local: StripeLocal | undefined;
let receiver: Server | undefined;
afterEach(async () => {
  await local?.close();
  await new Promise((resolve) => (receiver ? receiver.close(resolve) : resolve(undefined)));
  local = undefined;
  receiver = undefined;
});

function sdk(server: StripeLocal): Stripe {
  return new Stripe('sk_test_local', {
    host: server.host,
    port: server.port,
    protocol: 'http',
    maxNetworkRetries: 0,
    telemetry: false,
  });
}

/** A webhook endpoint on port 0 that keeps every raw delivery. */
async function webhookReceiver(): Promise<{ url: string; received: { body: string; signature: string }[] }> {
  const received: { body: string; signature: string }[] = [];
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        body: Buffer.concat(chunks).toString('utf8'),
        signature: String(req.headers['stripe-signature']),
      });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver?.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, received };
}

describe('local Stripe server through the official SDK', () => {
  it('keeps customers and refuses unknown or missing parameters as Stripe does', async () => {
    local = await startStripeLocal();
    const stripe = sdk(local);
    const customer = await stripe.customers.create({ email: 'a@example.com', metadata: { workspace: 'w1' } });
    expect(customer.id).toMatch(/^cus_/);
    expect((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).toMatchObject({
      email: 'a@example.com',
      metadata: { workspace: 'w1' },
    });
    const unknown = await stripe.customers.create({ emial: 'typo' } as never).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(unknown).toMatchObject({ code: 'parameter_unknown', param: 'emial', statusCode: 400 });
    const missing = await stripe.products.create({} as never).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'parameter_missing', param: 'name' });
    const absent = await stripe.customers.retrieve('cus_nope').catch((e: unknown) => e);
    expect(absent).toMatchObject({ code: 'resource_missing', statusCode: 404 });
    const badKey = await new Stripe('rk_live_x', {
      host: local.host,
      port: local.port,
      protocol: 'http',
      maxNetworkRetries: 0,
    }).customers
      .create({})
      .catch((e: unknown) => e);
    expect(badKey).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
  });

  it('replays a request with the same idempotency key and refuses the key with other parameters', async () => {
    local = await startStripeLocal();
    const stripe = sdk(local);
    const first = await stripe.customers.create({ email: 'x@example.com' }, { idempotencyKey: 'cust:w1' });
    const again = await stripe.customers.create({ email: 'x@example.com' }, { idempotencyKey: 'cust:w1' });
    expect(again.id).toBe(first.id);
    expect(local.state.list('customer')).toHaveLength(1);
    const other = await stripe.customers
      .create({ email: 'y@example.com' }, { idempotencyKey: 'cust:w1' })
      .catch((e: unknown) => e);
    expect(other).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
  });

  it('counts a meter event identifier once, enforces the 35-day window and sums by window', async () => {
    let now = Date.UTC(2026, 11, 3, 12);
    local = await startStripeLocal({ clock: () => now });
    const stripe = sdk(local);
    const customer = await stripe.customers.create({});
    const meter = await stripe.billing.meters.create({
      display_name: 'H100 GPU-ms',
      event_name: 'gpu_ms_h100',
      default_aggregation: { formula: 'sum' },
      customer_mapping: { type: 'by_id', event_payload_key: 'stripe_customer_id' },
      value_settings: { event_payload_key: 'value' },
    });
    const t = Math.floor(now / 1000) - 600;
    const send = (identifier: string, value: string, timestamp = t) =>
      stripe.billing.meterEvents.create({
        event_name: 'gpu_ms_h100',
        identifier,
        timestamp,
        payload: { stripe_customer_id: customer.id, value },
      });
    await send('r1', '60000');
    await send('r1', '60000');
    await send('r2', '1500');
    const old = await send('r3', '5', t - 36 * 86_400).catch((e: unknown) => e);
    expect(old).toMatchObject({ param: 'timestamp' });
    const fractional = await send('r4', '1.5').catch((e: unknown) => e);
    expect(fractional).toMatchObject({ param: 'payload[value]' });
    const start = Math.floor(t / 60) * 60 - 3600;
    const summaries = await stripe.billing.meters.listEventSummaries(meter.id, {
      customer: customer.id,
      start_time: start,
      end_time: start + 7200,
    });
    expect(summaries.data.map((s) => s.aggregated_value)).toEqual([61_500]);
    const unaligned = await stripe.billing.meters
      .listEventSummaries(meter.id, { customer: customer.id, start_time: start + 1, end_time: start + 7200 })
      .catch((e: unknown) => e);
    expect(unaligned).toMatchObject({ param: 'start_time' });
    now += 2 * 86_400_000;
    expect((await send('r1', '60000')).identifier).toBe('r1');
  });

  it('completes Checkout on its own page and sends signed webhooks the SDK verifies', async () => {
    const hook = await webhookReceiver();
    local = await startStripeLocal({ webhooks: [{ url: hook.url, secret: SECRET }] });
    const stripe = sdk(local);
    const product = await stripe.products.create({ name: 'Kiln Team' });
    const base = await stripe.prices.create({
      currency: 'usd',
      product: product.id,
      unit_amount: 25_000,
      recurring: { interval: 'month' },
      lookup_key: 'team_base',
    });
    const meter = await stripe.billing.meters.create({
      display_name: 'CPU',
      event_name: 'cpu',
      default_aggregation: { formula: 'sum' },
    });
    const metered = await stripe.prices.create({
      currency: 'usd',
      product: product.id,
      unit_amount_decimal: Stripe.Decimal.from('0.00131'),
      recurring: { interval: 'month', usage_type: 'metered', meter: meter.id },
    });
    const quantity = await stripe.checkout.sessions
      .create({ mode: 'subscription', line_items: [{ price: metered.id, quantity: 1 }] })
      .catch((e: unknown) => e);
    expect(quantity).toMatchObject({ param: 'line_items[0][quantity]' });
    const session = await stripe.checkout.sessions.create({
      mode: 'subscription',
      client_reference_id: 'workspace-1',
      success_url: 'http://127.0.0.1:1/done?session={CHECKOUT_SESSION_ID}',
      line_items: [{ price: base.id, quantity: 1 }, { price: metered.id }],
    });
    const pageHtml = await (await fetch(session.url as string)).text();
    expect(pageHtml).toContain('Pay and subscribe');
    const paid = await fetch(`${local.url}/checkout/${session.id}/complete`, {
      method: 'POST',
      body: new URLSearchParams({ email: 'pay@example.com' }),
      redirect: 'manual',
    });
    expect(paid.status).toBe(303);
    expect(paid.headers.get('location')).toBe(`http://127.0.0.1:1/done?session=${session.id}`);
    await local.deliveries.idle();
    const events = hook.received.map((d) => stripe.webhooks.constructEvent(d.body, d.signature, SECRET));
    expect(events.map((e) => e.type)).toEqual([
      'customer.subscription.created',
      'checkout.session.completed',
      'invoice.paid',
    ]);
    const completed = events[1]?.data.object as Stripe.Checkout.Session;
    expect(completed).toMatchObject({ client_reference_id: 'workspace-1', status: 'complete' });
    const sub = await stripe.subscriptions.retrieve(completed.subscription as string);
    expect(sub.items.data.map((i) => i.price.id)).toEqual([base.id, metered.id]);
    const invoices = await stripe.invoices.list({ customer: completed.customer as string });
    expect(invoices.data[0]).toMatchObject({ amount_paid: 25_000, billing_reason: 'subscription_create' });
    const tampered = hook.received[0]?.body.replace('active', 'canceled') ?? '';
    expect(() => stripe.webhooks.constructEvent(tampered, hook.received[0]?.signature ?? '', SECRET)).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
  });

  it('keeps its objects, meter identifiers and idempotent answers across a restart with a state file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stripe-local-state-'));
    try {
      const stateFile = join(dir, 'state.json');
      local = await startStripeLocal({ stateFile });
      const first = sdk(local);
      const customer = await first.customers.create({ email: 'kept@example.com' }, { idempotencyKey: 'c-1' });
      const meter = await first.billing.meters.create({
        display_name: 'CPU',
        event_name: 'kiln_cpu_core_ms',
        default_aggregation: { formula: 'sum' },
      });
      const event = { event_name: 'kiln_cpu_core_ms', identifier: 'rollup-1' };
      const payload = { stripe_customer_id: customer.id, value: '1000' };
      await first.billing.meterEvents.create({ ...event, payload });
      await local.close();

      local = await startStripeLocal({ stateFile });
      const second = sdk(local);
      expect((await second.customers.retrieve(customer.id)) as Stripe.Customer).toMatchObject({
        email: 'kept@example.com',
      });
      expect(
        (await second.customers.create({ email: 'kept@example.com' }, { idempotencyKey: 'c-1' })).id,
      ).toBe(customer.id);
      // The same identifier again is the same event: still counted once.
      await second.billing.meterEvents.create({ ...event, payload });
      expect(local.state.meterEvents.filter((e) => e.identifier === 'rollup-1')).toHaveLength(1);
      expect((await second.billing.meters.list()).data.map((m) => m.id)).toEqual([meter.id]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
