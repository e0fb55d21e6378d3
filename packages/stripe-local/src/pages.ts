import type { StripeObject, StripeState } from './state.ts';

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:16px system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}
.note{background:#fff4d6;border:1px solid #e6c65c;padding:.5rem .75rem;border-radius:6px;font-size:14px}
li{margin:.25rem 0}button{font:inherit;padding:.5rem 1.25rem;border-radius:6px;border:0;background:#635bff;color:#fff;cursor:pointer}
input{font:inherit;padding:.4rem;width:100%;box-sizing:border-box;margin:.25rem 0 1rem}</style></head>
<body><p class="note">Local Stripe (test mode): no real payment is made.</p>${body}</body></html>`;
}

function priceLine(price: StripeObject): string {
  const recurring = price.recurring as { usage_type?: string } | null;
  const name = (price.nickname as string | null) ?? (price.lookup_key as string | null) ?? price.id;
  if (recurring?.usage_type === 'metered')
    return `${escapeHtml(name)}: ${escapeHtml(String(price.unit_amount_decimal))}¢ per unit, billed by usage`;
  return `${escapeHtml(name)}: $${((price.unit_amount as number) / 100).toFixed(2)} per month`;
}

/** The Checkout page of a session: what is bought, an email field, a test card, and Pay. */
export function checkoutPage(state: StripeState, session: StripeObject): string {
  const items = (session.line_items_local as { price: string }[])
    .map((item) => state.get(item.price, 'price'))
    .filter((price): price is StripeObject => Boolean(price))
    .map((price) => `<li>${priceLine(price)}</li>`)
    .join('');
  if (session.status !== 'open') return page('Checkout', '<h1>This Checkout session is complete.</h1>');
  return page(
    'Checkout',
    `<h1>Subscribe</h1><ul>${items}</ul>
<form method="post" action="/checkout/${escapeHtml(session.id)}/complete">
<label>Email<input name="email" type="email" value="billing@example.com" required></label>
<label>Card number<input name="card" value="4242 4242 4242 4242" readonly></label>
<button type="submit">Pay and subscribe</button></form>
${session.cancel_url ? `<p><a href="${escapeHtml(session.cancel_url as string)}">Cancel</a></p>` : ''}`,
  );
}

/** The customer portal: the customer's subscriptions and invoices, and a button to cancel. */
export function portalPage(state: StripeState, session: StripeObject): string {
  const subs = state.list('subscription', (s) => s.customer === session.customer && s.status !== 'canceled');
  const invoices = state.list('invoice', (i) => i.customer === session.customer);
  const subList = subs
    .map(
      (s) => `<li>Subscription ${escapeHtml(s.id)} (${escapeHtml(String(s.status))})
<form method="post" action="/portal/${escapeHtml(session.id)}/cancel/${escapeHtml(s.id)}"><button type="submit">Cancel plan</button></form></li>`,
    )
    .join('');
  const invoiceList = invoices
    .map(
      (i) =>
        `<li>${escapeHtml(i.id)}: $${((i.total as number) / 100).toFixed(2)} ${escapeHtml(String(i.status))}</li>`,
    )
    .join('');
  return page(
    'Billing portal',
    `<h1>Billing</h1><p>Payment method: Visa •••• 4242</p><h2>Plan</h2><ul>${subList || '<li>No active plan</li>'}</ul>
<h2>Invoices</h2><ul>${invoiceList || '<li>None yet</li>'}</ul>
${session.return_url ? `<p><a href="${escapeHtml(session.return_url as string)}">Return</a></p>` : ''}`,
  );
}
