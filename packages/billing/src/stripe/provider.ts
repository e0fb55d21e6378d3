import type { Db } from '@kiln/db';
import type Stripe from 'stripe';
import { PLANS } from '../plans.ts';
import { type Catalog, ensureCatalog } from './catalog.ts';
import { createPortalSession, createUpgradeCheckout } from './checkout.ts';

/** What the API asks of Stripe: where to send an admin to upgrade or to manage billing. */
export interface StripeBilling {
  stripe: Stripe;
  catalog(db: Db): Promise<Catalog>;
  checkoutUrl(db: Db, workspaceId: string, urls: { successUrl: string; cancelUrl: string }): Promise<string>;
  portalUrl(db: Db, workspaceId: string, returnUrl: string): Promise<string>;
}

/** Stripe billing over `stripe` (Stripe itself or the local server); the catalog is ensured once. */
export function createStripeBilling(stripe: Stripe): StripeBilling {
  let catalog: Promise<Catalog> | null = null;
  const billing: StripeBilling = {
    stripe,
    catalog(db) {
      catalog ??= ensureCatalog(db, stripe, { baseCents: PLANS.TEAM.monthlyBaseCents ?? 0 });
      catalog.catch(() => {
        catalog = null;
      });
      return catalog;
    },
    async checkoutUrl(db, workspaceId, urls) {
      return createUpgradeCheckout(db, stripe, await billing.catalog(db), { workspaceId, ...urls });
    },
    portalUrl: (db, workspaceId, returnUrl) => createPortalSession(db, stripe, workspaceId, returnUrl),
  };
  return billing;
}
