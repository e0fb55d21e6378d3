import { describe, expect, it } from 'vitest';
import { bodyLimitFor, formatLimit, IMPORT_MAX_BODY_BYTES, limitBody, MAX_BODY_BYTES } from './body-limit.ts';

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

describe('bodyLimitFor', () => {
  const trpc = 'https://kiln.test/api/trpc';

  it('gives notebook.importIpynb 52 MiB, enough for a 25 MiB file after JSON escaping', () => {
    expect(bodyLimitFor(`${trpc}/notebook.importIpynb`)).toBe(52 * 1024 * 1024);
    expect(IMPORT_MAX_BODY_BYTES).toBeGreaterThanOrEqual(2 * 25 * 1024 * 1024);
  });

  it('keeps 1 MiB for every other procedure', () => {
    expect(bodyLimitFor(`${trpc}/auth.signIn`)).toBe(MAX_BODY_BYTES);
    expect(bodyLimitFor(`${trpc}/version.save`)).toBe(1024 * 1024);
    expect(bodyLimitFor(`${trpc}/notebook.importIpynbX`)).toBe(MAX_BODY_BYTES);
  });

  it('gives a batch the large limit only when every call in it is an import', () => {
    expect(bodyLimitFor(`${trpc}/notebook.importIpynb,notebook.importIpynb?batch=1`)).toBe(
      IMPORT_MAX_BODY_BYTES,
    );
    expect(bodyLimitFor(`${trpc}/notebook.importIpynb,auth.signIn?batch=1`)).toBe(MAX_BODY_BYTES);
    expect(bodyLimitFor(`${trpc}/notebook.importIpynb%2Cauth.signIn?batch=1`)).toBe(MAX_BODY_BYTES);
  });

  it('falls back to 1 MiB for paths it cannot read', () => {
    expect(bodyLimitFor('https://kiln.test/other/notebook.importIpynb')).toBe(MAX_BODY_BYTES);
    expect(bodyLimitFor(`${trpc}/%E0%A4%A`)).toBe(MAX_BODY_BYTES);
  });

  it('formats limits for the 413 message', () => {
    expect(formatLimit(MAX_BODY_BYTES)).toBe('1 MiB');
    expect(formatLimit(IMPORT_MAX_BODY_BYTES)).toBe('52 MiB');
  });
});
