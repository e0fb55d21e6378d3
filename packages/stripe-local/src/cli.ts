import { startStripeLocal } from './server.ts';

// `npm start -w @kiln/stripe-local`: STRIPE_LOCAL_PORT, and KILN_WEBHOOK_URL + STRIPE_WEBHOOK_SECRET
// to have events delivered to Kiln, as the Stripe CLI's `listen --forward-to` does.
const port = Number(process.env.STRIPE_LOCAL_PORT ?? 12111);
const url = process.env.KILN_WEBHOOK_URL;
const secret = process.env.STRIPE_WEBHOOK_SECRET;
const server = await startStripeLocal({
  port,
  webhooks: url && secret ? [{ url, secret }] : [],
  onError: (error) => console.error('stripe-local:', error),
});
console.log(`stripe-local: listening on ${server.url}${url ? `, delivering webhooks to ${url}` : ''}`);
const stop = () => void server.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
