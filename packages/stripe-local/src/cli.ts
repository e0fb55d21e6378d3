import { startStripeLocal } from './server.ts';

// `npm start -w @kiln/stripe-local`: STRIPE_LOCAL_PORT, KILN_WEBHOOK_URL + STRIPE_WEBHOOK_SECRET to have
// events delivered to Kiln (as the Stripe CLI's `listen --forward-to` does), and STRIPE_LOCAL_STATE_FILE
// to keep customers, prices and meters across restarts (Kiln's database remembers them by id).
const port = Number(process.env.STRIPE_LOCAL_PORT ?? 12111);
const url = process.env.KILN_WEBHOOK_URL;
const secret = process.env.STRIPE_WEBHOOK_SECRET;
const server = await startStripeLocal({
  port,
  webhooks: url && secret ? [{ url, secret }] : [],
  stateFile: process.env.STRIPE_LOCAL_STATE_FILE || undefined,
  onError: (error) => console.error('stripe-local:', error),
});
console.log(`stripe-local: listening on ${server.url}${url ? `, delivering webhooks to ${url}` : ''}`);
const stop = () => void server.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
