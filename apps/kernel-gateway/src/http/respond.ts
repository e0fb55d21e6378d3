import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import { DomainError, isDomainError } from '@kiln/core';
import { jsonBoundsViolation } from '@kiln/kernel-protocol';

/** Writes a JSON body (or none for 204). */
export function sendJson(
  response: ServerResponse,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  if (status === 204 || body === undefined) {
    response.writeHead(status, headers).end();
    return;
  }
  const text = JSON.stringify(body);
  response
    .writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(text)),
      'cache-control': 'no-store',
      ...headers,
    })
    .end(text);
}

/** Jupyter's error body `{message, reason}`, plus Kiln's stable `code`. */
export function errorBody(status: number, message: string, code: string) {
  return { message, reason: STATUS_CODES[status] ?? null, code };
}

/** Maps any thrown value to a JSON error response; unknown errors become a 500 without internals. */
export function sendError(response: ServerResponse, error: unknown): void {
  if (isDomainError(error)) {
    sendJson(response, error.status, {
      ...errorBody(error.status, error.message, error.code),
      ...error.details,
    });
    return;
  }
  console.error('[kernel-gateway] unexpected error', error);
  sendJson(response, 500, errorBody(500, 'The gateway hit an unexpected error; see its log', 'INTERNAL'));
}

const MAX_BODY = 1024 * 1024;

/** Reads a JSON object body (empty means `{}`); bad JSON and oversized bodies are 400/413 DomainErrors. */
export async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).byteLength;
    if (size > MAX_BODY) throw new DomainError('PAYLOAD_TOO_LARGE', 'Request bodies are limited to 1 MiB');
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks);
  const violation = jsonBoundsViolation(body);
  if (violation) throw new DomainError('BAD_REQUEST', `The request body ${violation}`);
  const text = body.toString('utf8').trim();
  if (text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new DomainError('BAD_REQUEST', 'The request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DomainError('BAD_REQUEST', 'The request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/** Wraps zod issues into one readable VALIDATION_FAILED error. */
export function validationError(
  issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>,
): DomainError {
  const text = issues
    .map((issue) => `${issue.path.map(String).join('.') || 'body'}: ${issue.message}`)
    .join('; ');
  return new DomainError('VALIDATION_FAILED', `Invalid request: ${text}`);
}
