import type { FormObject } from './form.ts';
import type { StripeState } from './state.ts';
import type { Deliveries } from './webhooks.ts';

export interface RouteContext {
  state: StripeState;
  deliveries: Deliveries;
  /** The server's own address, for Checkout and portal URLs. */
  baseUrl: string;
  params: FormObject;
  /** Captures of the route's pattern, e.g. the id in /v1/customers/:id. */
  ids: string[];
}

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  pattern: RegExp;
  handle(ctx: RouteContext): unknown;
}

export const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
export const int = (value: unknown): number | undefined =>
  typeof value === 'string' ? Number(value) : undefined;
