import { once } from 'node:events';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallRefused } from '../runtime/endpoint-pool.ts';
import type { CallAnswer, IncomingCall } from '../runtime/endpoint-runtime.ts';
import { createEndpointHandler } from './http-handler.ts';

/** What the runtime was asked: the call and the kwargs text the handler produced (or its refusal). */
interface Seen {
  incoming: IncomingCall;
  kwargs?: string;
  refused?: CallRefused;
}

const seen: Seen[] = [];
let server: Server;
let port: number;

/** A runtime that answers with the kwargs text it got, as a function returning its arguments would. */
const runtime = {
  async call(incoming: IncomingCall, kwargsJson: () => Promise<string>): Promise<CallAnswer> {
    const record: Seen = { incoming };
    seen.push(record);
    try {
      record.kwargs = await kwargsJson();
    } catch (error) {
      if (!(error instanceof CallRefused)) throw error;
      record.refused = error;
      return { requestId: 'r-1', status: error.status, error: error.message, replicaId: null, costNanos: 0 };
    }
    return { requestId: 'r-1', status: 200, body: record.kwargs, replicaId: 'replica', costNanos: 7 };
  },
};

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One raw HTTP request; `chunks` are written one by one (no content-length: chunked encoding). */
function send(
  method: string,
  path: string,
  options: { body?: string | Buffer; chunks?: Buffer[]; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...options.headers };
    if (options.body !== undefined) headers['content-length'] = Buffer.byteLength(options.body);
    const request = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (response) => {
      const parts: Buffer[] = [];
      response.on('data', (chunk: Buffer) => parts.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          text: Buffer.concat(parts).toString('utf8'),
        }),
      );
    });
    request.on('error', reject);
    if (options.chunks) {
      for (const chunk of options.chunks) request.write(chunk);
      request.end();
    } else request.end(options.body);
  });
}

beforeAll(async () => {
  const handler = createEndpointHandler({ runtime, maxBodyBytes: 64 });
  server = createServer((request, response) => {
    void handler(request, response).then((handled) => {
      if (!handled) response.writeHead(404, { 'x-not-endpoint': '1' }).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

afterAll(() => {
  server.close();
});

describe('the /e/ HTTP handler', () => {
  it("passes a POST body's own JSON text on, so a big integer reaches Python exactly", async () => {
    const body = '{"n": 123456789012345678901234567890, "s": "é ✓"}';
    const reply = await send('POST', '/e/acme/echo', {
      body,
      headers: { authorization: 'Bearer tok-1', 'content-type': 'application/json' },
    });
    expect(reply.status).toBe(200);
    expect(reply.text).toBe(body);
    expect(reply.headers['x-kiln-request-id']).toBe('r-1');
    expect(reply.headers['x-kiln-cost-nanos']).toBe('7');
    const last = seen.at(-1) as Seen;
    expect(last.incoming).toEqual({ workspaceSlug: 'acme', label: 'echo', method: 'POST', token: 'tok-1' });
  });

  it('reads a chunked body whose multi-byte characters are split across chunks', async () => {
    const text = Buffer.from('{"word": "naïve café"}');
    const split = text.indexOf(0xc3) + 1; // inside the two bytes of ï
    const reply = await send('POST', '/e/acme/echo/', {
      chunks: [text.subarray(0, split), text.subarray(split)],
    });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toEqual({ word: 'naïve café' });
  });

  it('takes an empty POST body as no keyword arguments', async () => {
    const reply = await send('POST', '/e/acme/echo', { body: '' });
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('{}');
  });

  it('turns GET query parameters into keyword arguments (JSON values parsed, else strings)', async () => {
    const reply = await send('GET', '/e/acme/echo?x=1&flag=true&name=bob&list=%5B1%2C2%5D');
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toEqual({ x: 1, flag: true, name: 'bob', list: [1, 2] });
    expect(JSON.parse((await send('GET', '/e/acme/echo')).text)).toEqual({});
  });

  it('refuses a body declared over the limit with 413 without reading it, and closes the connection', async () => {
    const reply = await send('POST', '/e/acme/echo', { body: `{"x": "${'a'.repeat(100)}"}` });
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.text)).toEqual({ error: 'The body is over 64 bytes', requestId: 'r-1' });
    expect(reply.headers.connection).toBe('close');
  });

  it('refuses a chunked body that grows past the limit with 413', async () => {
    const reply = await send('POST', '/e/acme/echo', {
      chunks: [Buffer.from('{"x": "'), Buffer.from('b'.repeat(80)), Buffer.from('"}')],
    });
    expect(reply.status).toBe(413);
  });

  it('answers 400 for a body that is not a JSON object of keyword arguments', async () => {
    const notJson = await send('POST', '/e/acme/echo', { body: '{"x": ' });
    expect(notJson.status).toBe(400);
    expect(JSON.parse(notJson.text).error).toMatch(/^The body is not JSON/);
    const array = await send('POST', '/e/acme/echo', { body: '[1, 2]' });
    expect(array.status).toBe(400);
    expect(JSON.parse(array.text).error).toMatch(/JSON object of keyword arguments/);
  });

  it('answers 405 for another method and leaves paths outside /e/<slug>/<label> to the app', async () => {
    const put = await send('PUT', '/e/acme/echo', { body: '{}' });
    expect(put.status).toBe(405);
    expect(put.headers.allow).toBe('GET, POST');
    for (const path of ['/e/acme', '/e/acme/echo/more', '/e/Acme/echo', '/api/e/acme/echo']) {
      const other = await send('GET', path);
      expect(other.status, path).toBe(404);
      expect(other.headers['x-not-endpoint'], path).toBe('1');
    }
  });

  it('serves many calls over one keep-alive connection', async () => {
    const { Agent } = await import('node:http');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const ports = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const body = `{"i": ${i}}`;
      const reply = await new Promise<{ status: number; text: string; local: number }>((resolve, reject) => {
        const request = httpRequest(
          {
            agent,
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/e/acme/echo',
            headers: { 'content-length': Buffer.byteLength(body) },
          },
          (response) => {
            const parts: Buffer[] = [];
            response.on('data', (chunk: Buffer) => parts.push(chunk));
            response.on('end', () =>
              resolve({
                status: response.statusCode ?? 0,
                text: Buffer.concat(parts).toString(),
                local: request.socket?.localPort ?? 0,
              }),
            );
          },
        );
        request.on('error', reject);
        request.end(body);
      });
      expect(reply.status).toBe(200);
      expect(reply.text).toBe(body);
      ports.add(reply.local);
    }
    agent.destroy();
    expect(ports.size).toBe(1);
  });
});
