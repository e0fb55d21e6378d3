import Stripe from 'stripe';

export interface StripeClientOptions {
  /** A real Stripe key (test mode: sk_test_...). Unset: the local server at `localUrl`. */
  secretKey?: string | null;
  /** Where @kiln/stripe-local listens when no key is set. */
  localUrl?: string;
}

/** The official SDK, pointed at Stripe when a key is given and at Kiln's local server otherwise. */
export function createStripeClient(options: StripeClientOptions): Stripe {
  if (options.secretKey) return new Stripe(options.secretKey, { maxNetworkRetries: 2, telemetry: false });
  const url = new URL(options.localUrl ?? 'http://127.0.0.1:12111');
  return new Stripe('sk_test_local', {
    host: url.hostname,
    port: Number(url.port || 80),
    protocol: url.protocol === 'https:' ? 'https' : 'http',
    maxNetworkRetries: 2,
    telemetry: false,
  });
}
