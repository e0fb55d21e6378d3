/** tRPC request bodies above this are refused with 413 before anything parses them. */
export const MAX_BODY_BYTES = 1024 * 1024;

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
