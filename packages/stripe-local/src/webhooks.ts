import { createHmac } from 'node:crypto';
import type { StripeObject, StripeState } from './state.ts';

export interface WebhookEndpoint {
  url: string;
  /** `whsec_...`: the key of the `Stripe-Signature` HMAC. */
  secret: string;
}

/** `t=<unix>,v1=<hex>`: HMAC-SHA256 of `${t}.${payload}`, as Stripe signs webhook deliveries. */
export function signPayload(payload: string, secret: string, timestamp: number): string {
  const signature = createHmac('sha256', secret).update(`${timestamp}.${payload}`).digest('hex');
  return `t=${timestamp},v1=${signature}`;
}

export interface Deliveries {
  emit(type: string, object: StripeObject, previous?: Record<string, unknown>): StripeObject;
  /** Delivers an event again (Stripe retries and duplicates happen), to every endpoint. */
  deliver(event: StripeObject): Promise<void>;
  /** Resolves once every delivery so far has finished (or given up). */
  idle(): Promise<void>;
}

/**
 * Records events and POSTs them, signed, to each endpoint; a failed delivery is retried a few times
 * with backoff, as Stripe retries (for days, there).
 */
export function createDeliveries(
  state: StripeState,
  endpoints: WebhookEndpoint[],
  options: { retries?: number; backoffMs?: number; onError?: (error: unknown) => void } = {},
): Deliveries {
  let pending: Promise<unknown>[] = [];
  async function post(endpoint: WebhookEndpoint, event: StripeObject): Promise<void> {
    const payload = JSON.stringify(event, null, 2);
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await fetch(endpoint.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json; charset=utf-8',
            'stripe-signature': signPayload(payload, endpoint.secret, state.now()),
          },
          body: payload,
        });
        await response.arrayBuffer();
        if (response.ok) return;
        throw new Error(`webhook ${endpoint.url} answered ${response.status}`);
      } catch (error) {
        if (attempt >= (options.retries ?? 3)) return (options.onError ?? (() => undefined))(error);
        await new Promise((resolve) => setTimeout(resolve, (options.backoffMs ?? 200) * 2 ** attempt));
      }
    }
  }
  const deliveries: Deliveries = {
    emit(type, object, previous) {
      const event = state.create('evt', 'event', {
        api_version: '2026-07-29.dahlia',
        type,
        data: { object: structuredClone(object), ...(previous ? { previous_attributes: previous } : {}) },
        pending_webhooks: endpoints.length,
        request: { id: null, idempotency_key: null },
      });
      state.events.push(event);
      void deliveries.deliver(event);
      return event;
    },
    async deliver(event) {
      const sending = Promise.all(endpoints.map((endpoint) => post(endpoint, event)));
      pending.push(sending);
      await sending;
    },
    async idle() {
      while (pending.length > 0) {
        const now = pending;
        pending = [];
        await Promise.all(now);
      }
    },
  };
  return deliveries;
}
