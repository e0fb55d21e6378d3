import { DomainError } from '@kiln/core';
import type { Db, Prisma } from '@kiln/db';
import Stripe from 'stripe';
import { ensurePlanCredits } from '../account/credits.ts';
import { periodOf } from '../ledger/period.ts';
import { PLANS } from '../plans.ts';

export type WebhookOutcome = 'applied' | 'duplicate' | 'ignored';

type Tx = Prisma.TransactionClient;

const HANDLED = new Set([
  'checkout.session.completed',
  'invoice.paid',
  'invoice.payment_failed',
  'customer.subscription.updated',
  'customer.subscription.deleted',
]);

/**
 * Verifies a webhook on its raw body and applies it once: the event id is inserted in the same
 * transaction as its effect, so a replay is a no-op. Subscriptions are re-read from Stripe and acted
 * on in their current state, so events arriving out of order leave the right plan.
 */
export async function handleStripeWebhook(
  db: Db,
  stripe: Stripe,
  input: { rawBody: string; signature: string | null; secret: string },
): Promise<WebhookOutcome> {
  let event: Stripe.Event;
  try {
    event = stripe.webhooks.constructEvent(input.rawBody, input.signature ?? '', input.secret);
  } catch (error) {
    if (error instanceof Stripe.errors.StripeSignatureVerificationError)
      throw new DomainError('FORBIDDEN', 'Webhook signature verification failed');
    throw new DomainError('BAD_REQUEST', 'Webhook payload is not a Stripe event');
  }
  if (!HANDLED.has(event.type)) return 'ignored';
  // Read Stripe before the transaction so no row lock waits on the network.
  const subscriptionId = subscriptionOf(event);
  const current = subscriptionId ? await stripe.subscriptions.retrieve(subscriptionId) : null;
  const outcome = await db.$transaction(async (tx) => {
    const inserted = await tx.stripeEvent.createMany({
      data: [{ id: event.id, type: event.type }],
      skipDuplicates: true,
    });
    if (inserted.count === 0) return 'duplicate' as const;
    await apply(tx, event, current);
    return 'applied' as const;
  });
  if (outcome === 'applied' && event.type === 'invoice.paid')
    await grantPeriodCredits(stripe, event.data.object);
  return outcome;
}

/**
 * The period's Team credits as a Stripe credit grant on metered usage, expiring at period end, so
 * Stripe's invoice applies the same $100 that Kiln's live balance counts. Keyed by customer and
 * period: a replayed invoice.paid grants once.
 */
async function grantPeriodCredits(stripe: Stripe, invoice: Stripe.Invoice): Promise<void> {
  const reason = invoice.billing_reason;
  if (reason !== 'subscription_create' && reason !== 'subscription_cycle') return;
  const customer = typeof invoice.customer === 'string' ? invoice.customer : invoice.customer?.id;
  const cents = PLANS.TEAM.monthlyCreditCents ?? 0;
  if (!customer || cents <= 0) return;
  await stripe.billing.creditGrants.create(
    {
      customer,
      name: 'Team monthly credits',
      category: 'promotional',
      amount: { type: 'monetary', monetary: { currency: 'usd', value: cents } },
      applicability_config: { scope: { price_type: 'metered' } },
      effective_at: invoice.period_start,
      expires_at: invoice.period_end,
    },
    { idempotencyKey: `kiln:grant:${customer}:${invoice.period_start}` },
  );
}

function subscriptionOf(event: Stripe.Event): string | null {
  const object = event.data.object as unknown as Record<string, unknown>;
  if (event.type.startsWith('customer.subscription.')) return object.id as string;
  if (event.type === 'checkout.session.completed') return (object.subscription as string | null) ?? null;
  if (event.type.startsWith('invoice.')) {
    const parent = object.parent as { subscription_details?: { subscription?: string } } | null;
    return parent?.subscription_details?.subscription ?? (object.subscription as string | null) ?? null;
  }
  return null;
}

async function apply(tx: Tx, event: Stripe.Event, current: Stripe.Subscription | null): Promise<void> {
  const object = event.data.object as unknown as Record<string, unknown>;
  const customer = typeof object.customer === 'string' ? object.customer : null;
  let workspaceId =
    event.type === 'checkout.session.completed' ? (object.client_reference_id as string | null) : null;
  if (!workspaceId && customer)
    workspaceId =
      (await tx.billingAccount.findUnique({ where: { stripeCustomerId: customer } }))?.workspaceId ?? null;
  if (!workspaceId) return;
  const workspace = await tx.workspace.findUnique({ where: { id: workspaceId }, select: { id: true } });
  if (!workspace) return;
  const now = new Date();
  const account = { workspaceId, stripeCustomerId: customer, updatedAt: now };
  await tx.billingAccount.upsert({
    where: { workspaceId },
    create: account,
    update: { updatedAt: now, ...(customer ? { stripeCustomerId: customer } : {}) },
  });

  if (current) {
    const active =
      current.status === 'active' || current.status === 'trialing' || current.status === 'past_due';
    await tx.billingAccount.update({
      where: { workspaceId },
      data: {
        stripeSubscriptionId: active ? current.id : null,
        subscriptionStatus: current.status,
        hasPaymentMethod: active,
        pastDue: current.status === 'past_due' || (event.type === 'invoice.payment_failed' && active),
      },
    });
    const plan = active ? 'TEAM' : 'STARTER';
    await tx.workspace.update({ where: { id: workspaceId }, data: { plan } });
    if (plan === 'TEAM')
      await ensurePlanCredits(tx as unknown as Db, workspaceId, 'TEAM', PLANS.TEAM, periodOf(now));
  }
  if (event.type === 'invoice.paid')
    await tx.billingAccount.update({ where: { workspaceId }, data: { pastDue: false } });
  if (event.type === 'invoice.payment_failed')
    await tx.billingAccount.update({ where: { workspaceId }, data: { pastDue: true } });
}
