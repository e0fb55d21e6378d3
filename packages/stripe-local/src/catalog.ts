import { invalid, notFound, StripeLocalError } from './errors.ts';
import type { FormObject } from './form.ts';
import { validate } from './params.ts';
import { int, type Route, str } from './route.ts';
import { listOf } from './state.ts';

const EXPAND = { expand: { array: 'string' } } as const;
const DAY = 86_400;

/** Customers, products, prices, billing meters, meter events and their summaries, credit grants. */
export const catalogRoutes: Route[] = [
  {
    method: 'POST',
    pattern: /^\/v1\/customers$/,
    handle({ state, params }) {
      validate(params, {
        ...EXPAND,
        email: 'string',
        name: 'string',
        description: 'string',
        metadata: 'map',
      });
      return state.create('cus', 'customer', {
        email: str(params.email) ?? null,
        name: str(params.name) ?? null,
        description: str(params.description) ?? null,
        metadata: params.metadata ?? {},
        invoice_settings: { default_payment_method: null },
      });
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/customers\/([^/]+)$/,
    handle({ state, params, ids }) {
      validate(params, EXPAND);
      const customer = state.get(ids[0] as string, 'customer');
      if (!customer) throw notFound('customer', ids[0] as string);
      return customer;
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/products$/,
    handle({ state, params }) {
      validate(params, { ...EXPAND, name: 'string', description: 'string', metadata: 'map', id: 'string' }, [
        'name',
      ]);
      return state.create('prod', 'product', {
        name: params.name,
        active: true,
        metadata: params.metadata ?? {},
      });
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/prices$/,
    handle({ state, params }) {
      validate(
        params,
        {
          ...EXPAND,
          currency: 'string',
          product: 'string',
          unit_amount: 'integer',
          unit_amount_decimal: 'string',
          nickname: 'string',
          lookup_key: 'string',
          metadata: 'map',
          recurring: {
            object: { interval: 'string', usage_type: 'string', meter: 'string', interval_count: 'integer' },
            required: ['interval'],
          },
        },
        ['currency', 'product'],
      );
      if (!state.get(str(params.product) ?? '', 'product'))
        throw notFound('product', String(params.product), 'product');
      const recurring = params.recurring as FormObject | undefined;
      if (recurring?.usage_type === 'metered' && !recurring.meter)
        throw invalid('recurring[meter]', 'A metered price must be attached to a billing meter.');
      if (recurring?.meter && !state.get(str(recurring.meter) ?? '', 'billing.meter'))
        throw notFound('billing meter', String(recurring.meter), 'recurring[meter]');
      if (params.unit_amount === undefined && params.unit_amount_decimal === undefined)
        throw invalid('unit_amount', 'Either unit_amount or unit_amount_decimal is required.');
      const lookup = str(params.lookup_key);
      if (lookup && state.list('price', (p) => p.lookup_key === lookup).length > 0)
        throw invalid('lookup_key', `A price with lookup_key ${lookup} already exists.`);
      return state.create('price', 'price', {
        active: true,
        currency: params.currency,
        product: params.product,
        unit_amount: int(params.unit_amount) ?? null,
        unit_amount_decimal: str(params.unit_amount_decimal) ?? String(params.unit_amount),
        nickname: str(params.nickname) ?? null,
        lookup_key: lookup ?? null,
        metadata: params.metadata ?? {},
        type: recurring ? 'recurring' : 'one_time',
        recurring: recurring
          ? {
              interval: recurring.interval,
              interval_count: int(recurring.interval_count) ?? 1,
              usage_type: recurring.usage_type ?? 'licensed',
              meter: recurring.meter ?? null,
            }
          : null,
      });
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/prices$/,
    handle({ state, params }) {
      validate(params, { ...EXPAND, lookup_keys: { array: 'string' }, limit: 'integer', active: 'boolean' });
      const keys = (params.lookup_keys as string[] | undefined) ?? null;
      return listOf(
        state.list('price', (p) => !keys || keys.includes(p.lookup_key as string)),
        '/v1/prices',
      );
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/billing\/meters$/,
    handle({ state, params }) {
      validate(
        params,
        {
          ...EXPAND,
          display_name: 'string',
          event_name: 'string',
          default_aggregation: { object: { formula: 'string' }, required: ['formula'] },
          customer_mapping: {
            object: { type: 'string', event_payload_key: 'string' },
            required: ['type', 'event_payload_key'],
          },
          value_settings: { object: { event_payload_key: 'string' }, required: ['event_payload_key'] },
          event_time_window: 'string',
        },
        ['display_name', 'event_name', 'default_aggregation'],
      );
      if (
        state.list('billing.meter', (m) => m.event_name === params.event_name && m.status === 'active')
          .length > 0
      )
        throw invalid(
          'event_name',
          `An active meter with event_name ${String(params.event_name)} already exists.`,
        );
      return state.create('mtr', 'billing.meter', {
        display_name: params.display_name,
        event_name: params.event_name,
        status: 'active',
        default_aggregation: params.default_aggregation,
        customer_mapping: params.customer_mapping ?? {
          type: 'by_id',
          event_payload_key: 'stripe_customer_id',
        },
        value_settings: params.value_settings ?? { event_payload_key: 'value' },
      });
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/billing\/meters$/,
    handle({ state, params }) {
      validate(params, { ...EXPAND, limit: 'integer', status: 'string' });
      return listOf(state.list('billing.meter'), '/v1/billing/meters');
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/billing\/meter_events$/,
    handle({ state, params }) {
      validate(params, { event_name: 'string', payload: 'map', identifier: 'string', timestamp: 'integer' }, [
        'event_name',
        'payload',
      ]);
      const meter = state.list(
        'billing.meter',
        (m) => m.event_name === params.event_name && m.status === 'active',
      )[0];
      if (!meter)
        throw new StripeLocalError(
          400,
          'invalid_request_error',
          `No active meter was found for event_name ${String(params.event_name)}.`,
          'no_meter_found',
          'event_name',
        );
      const payload = params.payload as Record<string, string>;
      const customerKey = (meter.customer_mapping as { event_payload_key: string }).event_payload_key;
      const valueKey = (meter.value_settings as { event_payload_key: string }).event_payload_key;
      const customer = payload[customerKey];
      if (!customer || !state.get(customer, 'customer'))
        throw invalid(
          `payload[${customerKey}]`,
          `No customer was found for payload[${customerKey}]: ${String(customer)}.`,
        );
      const raw = payload[valueKey];
      if (raw === undefined || !/^\d{1,15}$/.test(raw))
        throw invalid(
          `payload[${valueKey}]`,
          `payload[${valueKey}] must be a whole number of at most 15 digits.`,
        );
      const now = state.now();
      const timestamp = int(params.timestamp) ?? now;
      if (timestamp < now - 35 * DAY)
        throw invalid('timestamp', 'Meter event timestamps must be within the past 35 calendar days.');
      if (timestamp > now + 300)
        throw invalid('timestamp', 'Meter event timestamps may be at most 5 minutes in the future.');
      const identifier = str(params.identifier) ?? `local_${state.meterEvents.length + 1}_${now}`;
      if (identifier.length > 100) throw invalid('identifier', 'identifier must be at most 100 characters.');
      const seen = state.meterIdentifiers.get(identifier);
      // A repeated identifier within 24 h is the same event: counted once, answered as accepted.
      if (!seen || seen.receivedAt < now - DAY) {
        const record = {
          identifier,
          eventName: meter.event_name as string,
          customer,
          value: Number(raw),
          timestamp,
          receivedAt: now,
        };
        state.meterEvents.push(record);
        state.meterIdentifiers.set(identifier, record);
      }
      return {
        object: 'billing.meter_event',
        created: now,
        event_name: params.event_name,
        identifier,
        livemode: false,
        payload,
        timestamp,
      };
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/billing\/meters\/([^/]+)\/event_summaries$/,
    handle({ state, params, ids }) {
      validate(
        params,
        {
          ...EXPAND,
          customer: 'string',
          start_time: 'integer',
          end_time: 'integer',
          value_grouping_window: 'string',
          limit: 'integer',
        },
        ['customer', 'start_time', 'end_time'],
      );
      const meter = state.get(ids[0] as string, 'billing.meter');
      if (!meter) throw notFound('billing meter', ids[0] as string);
      const start = int(params.start_time) as number;
      const end = int(params.end_time) as number;
      if (start % 60 !== 0) throw invalid('start_time', 'start_time must be aligned to a minute.');
      if (end % 60 !== 0) throw invalid('end_time', 'end_time must be aligned to a minute.');
      const window =
        params.value_grouping_window === 'day'
          ? DAY
          : params.value_grouping_window === 'hour'
            ? 3600
            : end - start;
      const data = [];
      for (let from = start; from < end; from += window) {
        const to = Math.min(end, from + window);
        const aggregated_value = state.meterEvents
          .filter(
            (e) =>
              e.eventName === meter.event_name &&
              e.customer === params.customer &&
              e.timestamp >= from &&
              e.timestamp < to,
          )
          .reduce((sum, e) => sum + e.value, 0);
        data.push({
          id: `mtrusg_${meter.id}_${from}`,
          object: 'billing.meter_event_summary',
          aggregated_value,
          start_time: from,
          end_time: to,
          livemode: false,
          meter: meter.id,
        });
      }
      return listOf(data, `/v1/billing/meters/${meter.id}/event_summaries`);
    },
  },
  {
    method: 'POST',
    pattern: /^\/v1\/billing\/credit_grants$/,
    handle({ state, params }) {
      validate(
        params,
        {
          ...EXPAND,
          customer: 'string',
          name: 'string',
          category: 'string',
          amount: {
            object: {
              type: 'string',
              monetary: { object: { currency: 'string', value: 'integer' }, required: ['currency', 'value'] },
            },
            required: ['type'],
          },
          applicability_config: {
            object: {
              scope: { object: { price_type: 'string', prices: { array: { object: { id: 'string' } } } } },
            },
            required: ['scope'],
          },
          effective_at: 'integer',
          expires_at: 'integer',
          priority: 'integer',
          metadata: 'map',
        },
        ['customer', 'amount', 'applicability_config'],
      );
      if (!state.get(str(params.customer) ?? '', 'customer'))
        throw notFound('customer', String(params.customer), 'customer');
      return state.create('credgr', 'billing.credit_grant', {
        customer: params.customer,
        name: str(params.name) ?? null,
        category: str(params.category) ?? 'paid',
        amount: params.amount,
        applicability_config: params.applicability_config,
        effective_at: int(params.effective_at) ?? state.now(),
        expires_at: int(params.expires_at) ?? null,
        metadata: params.metadata ?? {},
      });
    },
  },
];
