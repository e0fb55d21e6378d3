import { describe, expect, it } from 'vitest';
import { limitBody } from './body-limit.ts';

const url = 'http://localhost/api/trpc/x';

function streamOf(size: number, chunk = 1000): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= size) return controller.close();
      const n = Math.min(chunk, size - sent);
      sent += n;
      controller.enqueue(new Uint8Array(n).fill(97));
    },
  });
}

describe('limitBody', () => {
  it('passes a small body through intact', async () => {
    const limited = await limitBody(new Request(url, { method: 'POST', body: '{"a":1}' }), 100);
    expect(await limited?.text()).toBe('{"a":1}');
  });

  it('refuses a declared Content-Length over the limit without reading', async () => {
    const request = new Request(url, {
      method: 'POST',
      headers: { 'content-length': '5000' },
      body: streamOf(5000),
      duplex: 'half',
    } as RequestInit);
    expect(await limitBody(request, 1000)).toBeNull();
  });

  it('refuses a chunked body that grows past the limit', async () => {
    const request = new Request(url, { method: 'POST', body: streamOf(5000), duplex: 'half' } as RequestInit);
    expect(await limitBody(request, 1000)).toBeNull();
  });

  it('leaves GET requests alone', async () => {
    const request = new Request(`${url}?input=%7B%7D`);
    expect(await limitBody(request, 1)).toBe(request);
  });
});
