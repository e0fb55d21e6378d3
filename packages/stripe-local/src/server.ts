import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { catalogRoutes } from './catalog.ts';
import { notFound, StripeLocalError } from './errors.ts';
import { type FormObject, parseForm } from './form.ts';
import { checkoutPage, portalPage } from './pages.ts';
import { stateFile } from './persist.ts';
import type { Route } from './route.ts';
import { type StripeObject, StripeState } from './state.ts';
import { cancelSubscription, completeCheckout, subscriptionRoutes } from './subscriptions.ts';
import { createDeliveries, type Deliveries, type WebhookEndpoint } from './webhooks.ts';

export interface StripeLocalOptions {
  port: number;
  host: string;
  webhooks: WebhookEndpoint[];
  /** Milliseconds since the epoch; tests move it to try Stripe's time windows. */
  clock: () => number;
  onError: (error: unknown) => void;
  /** Keeps the state in this JSON file across restarts (loaded at start, saved after each change). */
  stateFile?: string;
}

export interface StripeLocal {
  url: string;
  host: string;
  port: number;
  state: StripeState;
  deliveries: Deliveries;
  /** Records an event of `type` about `object` and delivers it, as Stripe would on a change. */
  emit(type: string, object: StripeObject): StripeObject;
  close(): Promise<void>;
}

const ROUTES: Route[] = [...catalogRoutes, ...subscriptionRoutes];
const MAX_BODY = 1024 * 1024;

/** Starts the local Stripe-compatible server (port 0 picks a free port). */
export async function startStripeLocal(options: Partial<StripeLocalOptions> = {}): Promise<StripeLocal> {
  const settings: StripeLocalOptions = {
    port: 0,
    host: '127.0.0.1',
    webhooks: [],
    clock: Date.now,
    onError: () => undefined,
    ...options,
  };
  const state = new StripeState(settings.clock);
  const file = settings.stateFile ? stateFile(settings.stateFile, state) : null;
  file?.load();
  const deliveries = createDeliveries(state, settings.webhooks, { onError: settings.onError });
  let baseUrl = '';

  async function api(req: IncomingMessage, res: ServerResponse, path: string, query: string): Promise<void> {
    const auth = req.headers.authorization ?? '';
    if (!/^Bearer sk_test_\w+$/.test(auth))
      throw new StripeLocalError(
        401,
        'authentication_error',
        'Invalid API Key provided. The local server accepts test keys (sk_test_...).',
      );
    const method = req.method as Route['method'];
    const body = method === 'POST' ? await readBody(req) : '';
    if (
      method === 'POST' &&
      body &&
      !String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')
    )
      throw new StripeLocalError(
        400,
        'invalid_request_error',
        'Content-Type must be application/x-www-form-urlencoded.',
      );
    let params: FormObject;
    try {
      params = parseForm(method === 'POST' ? body : query);
    } catch (error) {
      throw new StripeLocalError(400, 'invalid_request_error', (error as Error).message);
    }
    const route = ROUTES.find((r) => r.method === method && r.pattern.test(path));
    if (!route)
      throw new StripeLocalError(
        404,
        'invalid_request_error',
        `Unrecognized request URL (${method}: ${path}).`,
      );
    const ids = (route.pattern.exec(path) ?? []).slice(1);
    const key = method === 'POST' ? req.headers['idempotency-key'] : undefined;
    if (typeof key === 'string') {
      if (key.length > 255)
        throw new StripeLocalError(
          400,
          'invalid_request_error',
          'Idempotency-Key must be at most 255 characters.',
        );
      const fingerprint = createHash('sha256').update(`${method} ${path}\n${body}`).digest('hex');
      const stored = state.idempotency.get(key);
      if (stored) {
        if (stored.fingerprint !== fingerprint)
          throw new StripeLocalError(
            400,
            'idempotency_error',
            `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
          );
        res.writeHead(stored.status, {
          'content-type': 'application/json',
          'idempotent-replayed': 'true',
          'idempotency-key': key,
        });
        res.end(stored.body);
        return;
      }
      const { status, text } = run(route, params, ids);
      // Validation failures are not stored, as on Stripe; results (errors included) of executed requests are.
      if (!(status === 400 && JSON.parse(text).error?.code?.startsWith('parameter_')))
        state.idempotency.set(key, { fingerprint, status, body: text });
      res.writeHead(status, { 'content-type': 'application/json', 'idempotency-key': key });
      res.end(text);
      return;
    }
    const { status, text } = run(route, params, ids);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(text);
  }

  function run(route: Route, params: FormObject, ids: string[]): { status: number; text: string } {
    try {
      return { status: 200, text: JSON.stringify(route.handle({ state, deliveries, baseUrl, params, ids })) };
    } catch (error) {
      if (error instanceof StripeLocalError)
        return { status: error.status, text: JSON.stringify(error.toJSON()) };
      throw error;
    }
  }

  async function pages(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    const html = (text: string, status = 200) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
      res.end(text);
    };
    const redirect = (to: string) => {
      res.writeHead(303, { location: to });
      res.end();
    };
    let m = /^\/checkout\/([\w]+)$/.exec(path);
    if (m && req.method === 'GET') {
      const session = state.get(m[1] as string, 'checkout.session');
      if (!session) throw notFound('checkout.session', m[1] as string);
      html(checkoutPage(state, session));
      return true;
    }
    m = /^\/checkout\/([\w]+)\/complete$/.exec(path);
    if (m && req.method === 'POST') {
      const form = new URLSearchParams(await readBody(req));
      const session = completeCheckout(
        state,
        deliveries,
        m[1] as string,
        form.get('email') ?? 'billing@example.com',
      );
      const success = (session.success_url as string | null)?.replace('{CHECKOUT_SESSION_ID}', session.id);
      if (success) redirect(success);
      else html('<h1>Payment complete</h1>');
      return true;
    }
    m = /^\/portal\/([\w]+)$/.exec(path);
    if (m && req.method === 'GET') {
      const session = state.get(m[1] as string, 'billing_portal.session');
      if (!session) throw notFound('billing_portal.session', m[1] as string);
      html(portalPage(state, session));
      return true;
    }
    m = /^\/portal\/([\w]+)\/cancel\/([\w]+)$/.exec(path);
    if (m && req.method === 'POST') {
      const session = state.get(m[1] as string, 'billing_portal.session');
      const sub = state.get(m[2] as string, 'subscription');
      if (!session || !sub || sub.customer !== session.customer)
        throw notFound('subscription', m[2] as string);
      cancelSubscription({ state, deliveries }, sub.id);
      redirect((session.return_url as string | null) ?? `/portal/${session.id}`);
      return true;
    }
    return false;
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    const handle =
      url.pathname.startsWith('/v1/') || url.pathname.startsWith('/v2/')
        ? api(req, res, url.pathname, url.search.slice(1))
        : pages(req, res, url.pathname).then((done) => {
            if (!done)
              throw new StripeLocalError(
                404,
                'invalid_request_error',
                `Unrecognized request URL (${req.method}: ${url.pathname}).`,
              );
          });
    handle
      .finally(() => {
        if (req.method === 'POST') file?.save();
      })
      .catch((error: unknown) => {
        const known =
          error instanceof StripeLocalError
            ? error
            : new StripeLocalError(500, 'api_error', 'An unexpected error occurred in the local server.');
        if (!(error instanceof StripeLocalError)) settings.onError(error);
        if (!res.headersSent) res.writeHead(known.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(known.toJSON()));
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://${settings.host}:${port}`;
  return {
    url: baseUrl,
    host: settings.host,
    port,
    state,
    deliveries,
    emit: (type, object) => deliveries.emit(type, object),
    async close() {
      await deliveries.idle();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new StripeLocalError(413, 'invalid_request_error', 'Request body is too large.'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
