/** tRPC request bodies above this are refused with 413 before anything parses them. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The body limit for `notebook.importIpynb`: the server takes files up to 25 MiB of text, and JSON
 * escaping of quotes and backslashes can nearly double that on the wire.
 */
export const IMPORT_MAX_BODY_BYTES = 52 * 1024 * 1024;

const LARGE_BODY_PROCEDURES = new Set(['notebook.importIpynb']);

/**
 * The body limit for a tRPC request URL. Only a call (or a batch made only of calls) to a procedure
 * that takes whole files gets the large limit, so one import cannot smuggle a big body to others.
 */
export function bodyLimitFor(url: string): number {
  const { pathname } = new URL(url);
  const marker = '/api/trpc/';
  const at = pathname.indexOf(marker);
  if (at < 0) return MAX_BODY_BYTES;
  let paths: string[];
  try {
    paths = decodeURIComponent(pathname.slice(at + marker.length)).split(',');
  } catch {
    return MAX_BODY_BYTES;
  }
  return paths.every((path) => LARGE_BODY_PROCEDURES.has(path)) ? IMPORT_MAX_BODY_BYTES : MAX_BODY_BYTES;
}

/** "1 MiB", "52 MiB": the limit as people read it in the 413 message. */
export function formatLimit(bytes: number): string {
  return `${Math.round(bytes / (1024 * 1024))} MiB`;
}

/** Returns the request with its body buffered, or null when the body is larger than `limit`. */
export async function limitBody(request: Request, limit = MAX_BODY_BYTES): Promise<Request | null> {
  if (request.method === 'GET' || request.method === 'HEAD' || !request.body) return request;
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) return null;

  // Content-Length may be absent (chunked) or wrong, so count the bytes as they arrive.
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new Request(request.url, { method: request.method, headers: request.headers, body });
}
