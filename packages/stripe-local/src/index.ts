export { type StripeLocal, type StripeLocalOptions, startStripeLocal } from './server.ts';
export type { StripeObject, StripeState } from './state.ts';
export { signPayload, type WebhookEndpoint } from './webhooks.ts';
