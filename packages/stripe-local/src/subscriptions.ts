import { invalid, notFound, StripeLocalError } from './errors.ts';
import type { FormObject } from './form.ts';
import { validate } from './params.ts';
import { type Route, type RouteContext, str } from './route.ts';
import { listOf, type StripeObject, type StripeState } from './state.ts';
import type { Deliveries } from './webhooks.ts';

const EXPAND = { expand: { array: 'string' } } as const;
const MONTH = 30 * 86_400;

/** Checkout sessions, billing portal sessions, subscriptions, invoices and events. */
export const subscriptionRoutes: Route[] = [
  {
    method: 'POST',
    pattern: /^\/v1\/checkout\/sessions$/,
    handle({ state, params, baseUrl }) {
      validate(
        params,
        {
          ...EXPAND,
          mode: 'string',
          customer: 'string',
          client_reference_id: 'string',
          success_url: 'string',
          cancel_url: 'string',
          metadata: 'map',
          line_items: { array: { object: { price: 'string', quantity: 'integer' }, required: ['price'] } },
          subscription_data: { object: { metadata: 'map' } },
        },
        ['mode'],
      );
      if (params.mode !== 'subscription')
        throw invalid('mode', 'Only mode=subscription is supported by the local server.');
      const items = (params.line_items as FormObject[] | undefined) ?? [];
      if (items.length === 0) throw invalid('line_items', 'line_items is required in subscription mode.');
      items.forEach((item, i) => {
        const price = state.get(str(item.price) ?? '', 'price');
        if (!price) throw notFound('price', String(item.price), `line_items[${i}][price]`);
        const metered = (price.recurring as { usage_type?: string } | null)?.usage_type === 'metered';
        if (metered && item.quantity !== undefined)
          throw invalid(
            `line_items[${i}][quantity]`,
            'Quantity should not be specified where usage_type is `metered`.',
          );
      });
      if (params.customer && !state.get(str(params.customer) ?? '', 'customer'))
        throw notFound('customer', String(params.customer), 'customer');
      const session = state.create('cs_test', 'checkout.session', {
        mode: 'subscription',
        status: 'open',
        payment_status: 'unpaid',
        customer: str(params.customer) ?? null,
        client_reference_id: str(params.client_reference_id) ?? null,
        success_url: str(params.success_url) ?? null,
        cancel_url: str(params.cancel_url) ?? null,
        metadata: params.metadata ?? {},
        subscription: null,
        line_items_local: items,
        subscription_metadata: (params.subscription_data as FormObject | undefined)?.metadata ?? {},
        expires_at: state.now() + 86_400,
      });
      session.url = `${baseUrl}/checkout/${session.id}`;
      return publicSession(session);
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/checkout\/sessions\/([^/]+)$/,
    handle({ state, params, ids }) {
      validate(params, EXPAND);
      const session = state.get(ids[0] as string, 'checkout.session');
      if (!session) throw notFound('checkout.session', ids[0] as string);
      return publicSession(session);
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/billing_portal\/sessions$/,
    handle({ state, params, baseUrl }) {
      validate(params, { ...EXPAND, customer: 'string', return_url: 'string', configuration: 'string' }, [
        'customer',
      ]);
      if (!state.get(str(params.customer) ?? '', 'customer'))
        throw notFound('customer', String(params.customer), 'customer');
      const session = state.create('bps', 'billing_portal.session', {
        customer: params.customer,
        return_url: str(params.return_url) ?? null,
      });
      session.url = `${baseUrl}/portal/${session.id}`;
      return session;
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/subscriptions\/([^/]+)$/,
    handle: ({ state, params, ids }) => {
      validate(params, EXPAND);
      return subscription(state, ids[0] as string);
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/subscriptions\/([^/]+)$/,
    handle(ctx) {
      validate(ctx.params, { ...EXPAND, cancel_at_period_end: 'boolean', metadata: 'map' });
      const sub = subscription(ctx.state, ctx.ids[0] as string);
      const previous = { cancel_at_period_end: sub.cancel_at_period_end, metadata: sub.metadata };
      if (ctx.params.cancel_at_period_end !== undefined)
        sub.cancel_at_period_end = ctx.params.cancel_at_period_end === 'true';
      if (ctx.params.metadata)
        sub.metadata = { ...(sub.metadata as object), ...(ctx.params.metadata as object) };
      ctx.deliveries.emit('customer.subscription.updated', sub, previous);
      return sub;
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/v1\/subscriptions\/([^/]+)$/,
    handle(ctx) {
      validate(ctx.params, EXPAND);
      return cancelSubscription(ctx, ctx.ids[0] as string);
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/invoices$/,
    handle({ state, params }) {
      validate(params, {
        ...EXPAND,
        customer: 'string',
        subscription: 'string',
        limit: 'integer',
        status: 'string',
      });
      return listOf(
        state
          .list(
            'invoice',
            (i) =>
              (!params.customer || i.customer === params.customer) &&
              (!params.subscription || i.subscription === params.subscription),
          )
          .reverse(),
        '/v1/invoices',
      );
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/events\/([^/]+)$/,
    handle({ state, params, ids }) {
      validate(params, EXPAND);
      const event = state.get(ids[0] as string, 'event');
      if (!event) throw notFound('event', ids[0] as string);
      return event;
    },
  },
];

function publicSession(session: StripeObject) {
  const { line_items_local: _items, subscription_metadata: _meta, ...rest } = session;
  return rest;
}

function subscription(state: StripeState, id: string): StripeObject {
  const sub = state.get(id, 'subscription');
  if (!sub) throw notFound('subscription', id);
  return sub;
}

export function cancelSubscription(
  ctx: Pick<RouteContext, 'state' | 'deliveries'>,
  id: string,
): StripeObject {
  const sub = subscription(ctx.state, id);
  if (sub.status === 'canceled')
    throw new StripeLocalError(
      400,
      'invalid_request_error',
      `No such subscription: '${id}'`,
      'resource_missing',
      'id',
    );
  sub.status = 'canceled';
  sub.canceled_at = ctx.state.now();
  sub.ended_at = ctx.state.now();
  ctx.deliveries.emit('customer.subscription.deleted', sub);
  return sub;
}

/**
 * What paying on the Checkout page does: a customer if there was none, a card on file, an active
 * subscription of the session's prices, its first invoice paid, and the webhooks Stripe sends then.
 */
export function completeCheckout(
  state: StripeState,
  deliveries: Deliveries,
  sessionId: string,
  email: string,
): StripeObject {
  const session = state.get(sessionId, 'checkout.session');
  if (!session) throw notFound('checkout.session', sessionId);
  if (session.status !== 'open') throw invalid('session', 'This Checkout session is no longer open.');
  let customer = session.customer ? state.get(session.customer as string, 'customer') : undefined;
  customer ??= state.create('cus', 'customer', {
    email,
    name: null,
    metadata: {},
    invoice_settings: { default_payment_method: null },
  });
  const paymentMethod = state.create('pm', 'payment_method', {
    type: 'card',
    customer: customer.id,
    card: { brand: 'visa', last4: '4242', exp_month: 12, exp_year: 2034 },
  });
  customer.invoice_settings = { default_payment_method: paymentMethod.id };
  const start = state.now();
  const items = (session.line_items_local as FormObject[]).map((item) => {
    const price = state.get(item.price as string, 'price') as StripeObject;
    const metered = (price.recurring as { usage_type?: string }).usage_type === 'metered';
    return state.create('si', 'subscription_item', {
      price,
      quantity: metered ? undefined : Number(item.quantity ?? 1),
      current_period_start: start,
      current_period_end: start + MONTH,
    });
  });
  const sub = state.create('sub', 'subscription', {
    customer: customer.id,
    status: 'active',
    cancel_at_period_end: false,
    default_payment_method: paymentMethod.id,
    items: listOf(items, '/v1/subscription_items'),
    metadata: session.subscription_metadata ?? {},
    current_period_start: start,
    current_period_end: start + MONTH,
    latest_invoice: null as string | null,
  });
  const base = items.reduce(
    (sum, item) =>
      sum +
      (((item.price as StripeObject).unit_amount as number | null) ?? 0) *
        ((item.quantity as number | undefined) ?? 0),
    0,
  );
  const invoice = state.create('in', 'invoice', {
    customer: customer.id,
    subscription: sub.id,
    parent: { type: 'subscription_details', subscription_details: { subscription: sub.id } },
    billing_reason: 'subscription_create',
    status: 'paid',
    currency: 'usd',
    amount_due: base,
    amount_paid: base,
    total: base,
    period_start: start,
    period_end: start + MONTH,
    hosted_invoice_url: null,
  });
  sub.latest_invoice = invoice.id;
  Object.assign(session, {
    status: 'complete',
    payment_status: 'paid',
    customer: customer.id,
    subscription: sub.id,
  });
  deliveries.emit('customer.subscription.created', sub);
  deliveries.emit('checkout.session.completed', publicSession(session) as StripeObject);
  deliveries.emit('invoice.paid', invoice);
  return session;
}
