import { handleStripeWebhook } from '@kiln/billing';
import { isDomainError } from '@kiln/core';
import { getEnv } from '../../../../env.ts';
import { getDb } from '../../../../server/db.ts';
import { getStripeBilling } from '../../../../server/stripe.ts';

export const dynamic = 'force-dynamic';

const MAX_BYTES = 1024 * 1024;

/**
 * Stripe's webhooks. The signature covers the raw bytes, so the body is read as text and never
 * parsed before verification; the event is applied once (its id is stored with its effect).
 */
export async function POST(request: Request): Promise<Response> {
  const length = Number(request.headers.get('content-length') ?? 0);
  if (length > MAX_BYTES) return Response.json({ error: 'payload too large' }, { status: 413 });
  const rawBody = await request.text();
  if (rawBody.length > MAX_BYTES) return Response.json({ error: 'payload too large' }, { status: 413 });
  try {
    const outcome = await handleStripeWebhook(getDb(), getStripeBilling().stripe, {
      rawBody,
      signature: request.headers.get('stripe-signature'),
      secret: getEnv().stripe.webhookSecret,
    });
    return Response.json({ received: true, outcome });
  } catch (error) {
    if (isDomainError(error) && (error.code === 'FORBIDDEN' || error.code === 'BAD_REQUEST'))
      return Response.json({ error: error.message }, { status: 400 });
    console.error('stripe webhook failed', error);
    // A 5xx makes Stripe deliver again later; the event id keeps that from applying twice.
    return Response.json({ error: 'webhook failed' }, { status: 500 });
  }
}
