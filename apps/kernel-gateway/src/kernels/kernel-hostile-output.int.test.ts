import { createGatewayClient, type GatewayClient } from '@kiln/kernel-protocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRunscGateway } from '../../test/runsc-gateway.ts';

// The attack from issue 9, from a real cell in a real runsc kernel: user code writes straight to
// the agent socket a message nested 100,000 levels deep. Before bounds, forwarding it threw
// RangeError inside the socket's data handler and ended the gateway for every tenant.
let gateway: Awaited<ReturnType<typeof startRunscGateway>>;
let client: GatewayClient;
let kernelId: string;

beforeAll(async () => {
  gateway = await startRunscGateway();
  client = createGatewayClient({ baseUrl: gateway.url, token: gateway.tokenA });
  kernelId = (await client.startKernel({ resources: { cpu: 1, memoryMiB: 1024 } })).id;
}, 900_000);

afterAll(async () => {
  await gateway?.close();
});

const ATTACK = `
import json
k = get_ipython().kernel
parent = json.dumps(k.get_parent()["header"], default=str).encode()
header = json.dumps({"msg_id": "evil", "msg_type": "display_data", "session": "x",
                     "username": "x", "date": "", "version": "5.3"}).encode()
k.iopub_socket.link.send_parts([b"iopub", header, parent, b"{}",
                                b'{"data":' + b"[" * 100000 + b"]" * 100000 + b"}"])
print("sent")
`;

describe('a cell that sends hostile messages to the gateway', () => {
  it('loses only that message, and the notebook is told why under the cell', async () => {
    const channel = await client.connect(kernelId);
    const { reply, iopub } = await channel.execute(ATTACK);
    expect(reply.content.status).toBe('ok');
    const notices = iopub.filter((m) => m.header.msg_type === 'stream' && m.content.name === 'stderr');
    expect(notices.map((m) => m.content.text).join('')).toMatch(
      /\[Kiln\] A message from the kernel was dropped: its content nests deeper than 128 levels/,
    );
    const again = await channel.execute('6 * 7');
    expect(again.iopub.find((m) => m.header.msg_type === 'execute_result')?.content.data).toEqual({
      'text/plain': '42',
    });
    expect((await client.getKernel(kernelId)).execution_state).toBe('idle');
    await channel.close();
  }, 120_000);
});
