import { CloseCode } from '@kiln/core';
import {
  DEFAULT_JSON_BOUNDS,
  decodeLegacy,
  decodeV1,
  encodeLegacy,
  encodeV1,
  type JupyterMessage,
  V1_PROTOCOL,
  WireError,
} from '@kiln/kernel-protocol';
import { connectChannel } from '@kiln/kernel-protocol/client';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startGateway } from '../../test/harness.ts';
import { seeded } from '../../test/seeded-random.ts';
import { encodeMessage } from '../sandbox/frame-codec.ts';

// A token holder controls every byte of a channels frame. Whatever they send must end in a decoded
// message or a WireError (the socket closes with a reason); never an exception that escapes the
// websocket handler, and never a message the gateway then fails to re-encode for the kernel.

const header = { msg_id: 'a', msg_type: 'comm_msg', session: 's', username: 'u', date: 'd', version: '5.3' };
const deep = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);

function v1Frame(parts: Buffer[]): Buffer {
  const table = Buffer.alloc(8 * (parts.length + 2));
  table.writeBigUInt64LE(BigInt(parts.length + 1), 0);
  let position = table.length;
  parts.forEach((part, i) => {
    table.writeBigUInt64LE(BigInt(position), 8 * (i + 1));
    position += part.length;
  });
  table.writeBigUInt64LE(BigInt(position), 8 * (parts.length + 1));
  return Buffer.concat([table, ...parts]);
}

function hostile(random: () => number): { data: Buffer; binary: boolean } {
  const int = (max: number) => Math.floor(random() * max);
  // Some deep enough to overflow JSON.stringify's recursion, most just past the bound.
  const levels = random() < 0.2 ? 100_000 : DEFAULT_JSON_BOUNDS.maxDepth + 1 + int(5000);
  // Wrapped in an object: parts must be objects, and a bare array would be refused for its type.
  const nested =
    random() < 0.5 ? `{"data":${deep(levels)}}` : `${'{"k":'.repeat(levels)}1${'}'.repeat(levels)}`;
  const garbage = Buffer.from(Array.from({ length: 1 + int(64) }, () => 0x80 + int(128)));
  const h = Buffer.from(JSON.stringify(header));
  const choices: Array<() => { data: Buffer; binary: boolean }> = [
    () => ({
      data: Buffer.from(`{"channel":"shell","header":${JSON.stringify(header)},"content":${nested}}`),
      binary: false,
    }),
    () => ({ data: Buffer.from(`{"channel":"shell","header":${nested}}`), binary: false }),
    () => ({
      data: v1Frame([Buffer.from('shell'), h, Buffer.from('{}'), Buffer.from(nested), Buffer.from('{}')]),
      binary: true,
    }),
    () => ({
      data: v1Frame([Buffer.from('shell'), h, Buffer.from('{}'), Buffer.from('{}'), Buffer.from(nested)]),
      binary: true,
    }),
    () => ({
      data: v1Frame([garbage, h, Buffer.from('{}'), Buffer.from('{}'), Buffer.from('{}')]),
      binary: true,
    }),
    () => ({
      data: v1Frame([
        Buffer.from('shell'),
        Buffer.concat([Buffer.from('{"msg_id":"'), garbage, Buffer.from('","msg_type":"x"}')]),
        Buffer.from('{}'),
        Buffer.from('{}'),
        Buffer.from('{}'),
      ]),
      binary: true,
    }),
    () => ({
      data: Buffer.from(encodeLegacy({ ...message(), buffers: [new Uint8Array(garbage)] }) as Buffer),
      binary: true,
    }),
    () => ({
      data: Buffer.concat([
        Buffer.from('{"channel":"shell","header":{"msg_id":"'),
        garbage,
        Buffer.from('"}}'),
      ]),
      binary: false,
    }),
  ];
  let { data, binary } = (choices[int(choices.length)] as () => { data: Buffer; binary: boolean })();
  const mutation = int(4);
  if (mutation === 1) data = data.subarray(0, int(data.length));
  if (mutation === 2) {
    data = Buffer.from(data);
    for (let i = 0; i < 1 + int(8); i++) data[int(data.length)] = int(256);
  }
  return { data, binary };
}

function message(): JupyterMessage {
  return {
    channel: 'shell',
    header,
    parent_header: {},
    metadata: {},
    content: { comm_id: 'c' },
    buffers: [],
  };
}

describe('channels frames from a hostile client', () => {
  it('refuses a message nested 100,000 levels deep with a WireError before parsing it', () => {
    const text = `{"channel":"shell","header":${JSON.stringify(header)},"content":{"data":${deep(100_000)}}}`;
    expect(() => decodeLegacy(Buffer.from(text), false)).toThrow(/nests deeper than 128 levels/);
    const v1 = v1Frame([
      Buffer.from('shell'),
      Buffer.from(JSON.stringify(header)),
      Buffer.from('{}'),
      Buffer.from('{}'),
      Buffer.from(deep(100_000)),
    ]);
    expect(() => decodeV1(v1)).toThrow(WireError);
  });

  it('survives 3,000 seeded hostile frames in both framings: a message or a WireError, nothing else', () => {
    const seed = 0x77697265;
    const random = seeded(seed);
    let refused = 0;
    for (let i = 0; i < 3000; i++) {
      const { data, binary } = hostile(random);
      try {
        const decoded = binary && random() < 0.5 ? decodeV1(data) : decodeLegacy(data, binary);
        // What the gateway does next with it: forward to the kernel, echo to other clients.
        encodeMessage(decoded);
        encodeV1(decoded);
        encodeLegacy(decoded);
      } catch (error) {
        if (!(error instanceof WireError)) throw new Error(`seed ${seed} case ${i}: ${error}`);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(1000);
  });

  it('closes the socket with the reason, and the gateway and kernel carry on for everyone', async () => {
    const { call, tokenA, wsUrl } = await startGateway();
    const kernel = (await call('POST', '/api/kernels', tokenA, {})).json;
    const url = `${wsUrl}/api/kernels/${kernel.id}/channels`;
    const bystander = await connectChannel({ url, token: tokenA, protocol: 'v1' });

    const attacker = await connectChannel({ url, token: tokenA, protocol: 'v1' });
    attacker.socket.send(
      v1Frame([
        Buffer.from('shell'),
        Buffer.from(JSON.stringify(header)),
        Buffer.from('{}'),
        Buffer.from('{}'),
        Buffer.from(deep(100_000)),
      ]),
    );
    expect(await attacker.closed).toMatchObject({
      code: CloseCode.invalidPayload,
      reason: expect.stringMatching(/nests deeper/),
    });

    // Invalid UTF-8 in a text frame is refused by the websocket layer itself.
    const legacy = new WebSocket(`${url}?token=${encodeURIComponent(tokenA)}`);
    await new Promise((resolve) => legacy.once('open', resolve));
    const closed = new Promise<number>((resolve) => legacy.once('close', (code) => resolve(code)));
    legacy.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect(await closed).toBe(CloseCode.invalidPayload);

    const random = seeded(0x736f636b);
    for (let i = 0; i < 20; i++) {
      const socket = new WebSocket(`${url}?token=${encodeURIComponent(tokenA)}`, [V1_PROTOCOL]);
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      const { data, binary } = hostile(random);
      socket.send(data, { binary });
      socket.close();
      await new Promise((resolve) => socket.once('close', resolve));
    }

    const { reply } = await bystander.execute('1+1');
    expect(reply.content.status).toBe('ok');
    expect((await call('GET', `/api/kernels/${kernel.id}`, tokenA)).json.execution_state).toBe('idle');
    await bystander.close();
  }, 60_000);
});
