/**
 * The page's Content-Security-Policy. Scripts run only with this response's nonce (Next puts it on
 * its own script tags when the request carries this header), and what they load from there
 * ('strict-dynamic'); images only from this origin or data:/blob: URLs, so an output cannot load a
 * tracking beacon even if the sanitiser missed one; no plugins, no <base>, no framing by others.
 * Styles stay 'unsafe-inline': KaTeX, Monaco and ANSI colours set inline styles, and CSS cannot run code.
 */
export function contentSecurityPolicy(nonce: string, options: { dev?: boolean } = {}): string {
  const script = [`'self'`, `'nonce-${nonce}'`, `'strict-dynamic'`];
  // React's dev build evaluates code for its overlays and stack traces; production never does.
  if (options.dev) script.push(`'unsafe-eval'`);
  return [
    `default-src 'self'`,
    `script-src ${script.join(' ')}`,
    `style-src 'self' 'unsafe-inline'`,
    `img-src 'self' data: blob:`,
    `font-src 'self' data:`,
    `connect-src 'self' ws: wss:`,
    `worker-src 'self' blob:`,
    `object-src 'none'`,
    `base-uri 'none'`,
    `form-action 'self'`,
    `frame-ancestors 'none'`,
  ].join('; ');
}
