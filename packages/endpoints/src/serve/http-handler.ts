import type { IncomingMessage, ServerResponse } from 'node:http';
import { CallRefused } from '../runtime/endpoint-pool.ts';
import type { CallAnswer, EndpointRuntime } from '../runtime/endpoint-runtime.ts';

export interface EndpointHandlerOptions {
  runtime: Pick<EndpointRuntime, 'call'>;
  /** Largest request body (JSON kwargs) accepted, in bytes; default 1 MiB. */
  maxBodyBytes?: number;
}

const ROUTE = /^\/e\/([a-z0-9][a-z0-9-]*)\/([a-z0-9][a-z0-9-]*)\/?$/;

/** Query parameters as keyword arguments: a value that parses as JSON is that value, else the string. */
export function queryKwargs(search: URLSearchParams): Record<string, unknown> {
  const kwargs: Record<string, unknown> = {};
  for (const [key, value] of search) {
    try {
      kwargs[key] = JSON.parse(value);
    } catch {
      kwargs[key] = value;
    }
  }
  return kwargs;
}

/**
 * The body as text. A declared length over the limit is refused before reading; a declared length
 * within it is read into one buffer of that size (no chunk list, no concatenation).
 */
function readBody(request: IncomingMessage, limit: number): Promise<string> {
  const header = request.headers['content-length'];
  const declared = header === undefined ? -1 : Number(header);
  if (declared > limit) return Promise.reject(new CallRefused(413, `The body is over ${limit} bytes`));
  if (declared === 0) return Promise.resolve('');
  return new Promise((resolve, reject) => {
    const tooLarge = () => {
      reject(new CallRefused(413, `The body is over ${limit} bytes`));
      request.removeAllListeners('data');
      request.resume();
    };
    if (declared > 0) {
      // Node checks the body against its content-length: it cannot run past `declared`.
      const body = Buffer.allocUnsafe(declared);
      let size = 0;
      request.on('data', (chunk: Buffer) => {
        if (size + chunk.length > declared) return tooLarge();
        chunk.copy(body, size);
        size += chunk.length;
      });
      request.on('end', () => resolve(body.toString('utf8', 0, size)));
    } else {
      const chunks: Buffer[] = [];
      let size = 0;
      request.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) return tooLarge();
        chunks.push(chunk);
      });
      request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    }
    request.on('error', reject);
  });
}

/** The JSON object of keyword arguments in a POST body; anything else is the caller's mistake. */
export function kwargsFromBody(text: string): string {
  if (text.trim() === '') return '{}';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CallRefused(400, `The body is not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new CallRefused(400, 'The body must be a JSON object of keyword arguments, e.g. {"x": 1}');
  // The caller's own text goes on: Python parses it again, and a number past a double's precision
  // reaches the function exactly instead of rounded by a re-serialisation here.
  return text;
}

function send(response: ServerResponse, answer: CallAnswer): void {
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'x-kiln-request-id': answer.requestId,
    'x-kiln-cost-nanos': String(answer.costNanos),
  };
  if (answer.retryAfterSeconds !== undefined) headers['retry-after'] = String(answer.retryAfterSeconds);
  if (answer.status === 401) headers['www-authenticate'] = 'Bearer realm="kiln-endpoint"';
  const body =
    answer.status === 200 && answer.body !== undefined
      ? answer.body
      : JSON.stringify({ error: answer.error ?? 'failed', requestId: answer.requestId });
  response.writeHead(answer.status, headers);
  response.end(body);
}

/**
 * Node HTTP handler for `/e/<workspace-slug>/<label>`: POST with a JSON object of keyword arguments,
 * or GET with query parameters. Returns false for any other path, so the app can route it elsewhere.
 */
export function createEndpointHandler(options: EndpointHandlerOptions) {
  const limit = options.maxBodyBytes ?? 1024 * 1024;
  return async (request: IncomingMessage, response: ServerResponse): Promise<boolean> => {
    // No URL object per call: the path is the request target up to `?`, the query only parsed for GET.
    const target = request.url ?? '/';
    const question = target.indexOf('?');
    const match = ROUTE.exec(question < 0 ? target : target.slice(0, question));
    if (!match) return false;
    const method = request.method ?? 'GET';
    if (method !== 'POST' && method !== 'GET') {
      response.writeHead(405, { allow: 'GET, POST', 'content-type': 'application/json' });
      response.end(
        JSON.stringify({ error: 'Call an endpoint with POST (JSON body) or GET (query parameters)' }),
      );
      return true;
    }
    const authorization = request.headers.authorization ?? '';
    const bearer = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1] ?? null;
    const answer = await options.runtime.call(
      { workspaceSlug: match[1] as string, label: match[2] as string, method, token: bearer },
      async () =>
        method === 'GET'
          ? JSON.stringify(queryKwargs(new URLSearchParams(question < 0 ? '' : target.slice(question + 1))))
          : kwargsFromBody(await readBody(request, limit)),
    );
    // A refused body may not have been read: close the connection rather than read megabytes for nothing.
    if (answer.status === 413) response.setHeader('connection', 'close');
    send(response, answer);
    return true;
  };
}
