import type { Db } from '@kiln/db';
import type Stripe from 'stripe';
import type { Catalog } from './catalog.ts';

/** The workspace's Stripe customer, created once (the idempotency key survives a crash mid-create). */
export async function ensureCustomer(db: Db, stripe: Stripe, workspaceId: string): Promise<string> {
  const account = await db.billingAccount.findUnique({ where: { workspaceId } });
  if (account?.stripeCustomerId) return account.stripeCustomerId;
  const workspace = await db.workspace.findUniqueOrThrow({
    where: { id: workspaceId },
    select: { name: true },
  });
  const customer = await stripe.customers.create(
    { name: workspace.name, metadata: { kiln_workspace_id: workspaceId } },
    { idempotencyKey: `kiln:customer:${workspaceId}` },
  );
  await db.billingAccount.upsert({
    where: { workspaceId },
    create: { workspaceId, stripeCustomerId: customer.id, updatedAt: new Date() },
    update: { stripeCustomerId: customer.id, updatedAt: new Date() },
  });
  return customer.id;
}

/** A Checkout session upgrading the workspace to Team: the base price plus every metered price. */
export async function createUpgradeCheckout(
  db: Db,
  stripe: Stripe,
  catalog: Catalog,
  input: { workspaceId: string; successUrl: string; cancelUrl: string },
): Promise<string> {
  const customer = await ensureCustomer(db, stripe, input.workspaceId);
  const session = await stripe.checkout.sessions.create({
    mode: 'subscription',
    customer,
    client_reference_id: input.workspaceId,
    success_url: input.successUrl,
    cancel_url: input.cancelUrl,
    // Metered items carry no quantity (Stripe refuses one).
    line_items: [
      { price: catalog.basePrice, quantity: 1 },
      ...catalog.meteredPrices.map((price) => ({ price })),
    ],
    subscription_data: { metadata: { kiln_workspace_id: input.workspaceId, kiln_plan: 'TEAM' } },
  });
  if (!session.url) throw new Error('Stripe returned a Checkout session without a URL');
  return session.url;
}

/** A Customer Portal session for payment methods, invoices and cancelling. */
export async function createPortalSession(
  db: Db,
  stripe: Stripe,
  workspaceId: string,
  returnUrl: string,
): Promise<string> {
  const customer = await ensureCustomer(db, stripe, workspaceId);
  const session = await stripe.billingPortal.sessions.create({ customer, return_url: returnUrl });
  return session.url;
}
