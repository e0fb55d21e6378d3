import { createStripeBilling, createStripeClient, type StripeBilling } from '@kiln/billing';
import { getEnv } from '../env.ts';

const KEY = Symbol.for('kiln.web.stripe');
type Holder = { [KEY]?: StripeBilling };

/** The process-wide Stripe billing: Stripe with STRIPE_SECRET_KEY, Kiln's local Stripe server without. */
export function getStripeBilling(): StripeBilling {
  const holder = globalThis as Holder;
  if (!holder[KEY]) {
    const { stripe } = getEnv();
    holder[KEY] = createStripeBilling(
      createStripeClient({ secretKey: stripe.secretKey, localUrl: stripe.localUrl }),
    );
  }
  return holder[KEY];
}
