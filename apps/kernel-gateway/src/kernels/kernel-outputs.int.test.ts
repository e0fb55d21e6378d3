import type { KernelChannel } from '@kiln/kernel-protocol/client';
import { createGatewayClient, type GatewayClient } from '@kiln/kernel-protocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRunscGateway } from '../../test/runsc-gateway.ts';
import type { JupyterMessage } from '../sandbox/types.ts';

// Real ipykernel inside runsc, driven through the gateway with Kiln's own client over both framings.
let gateway: Awaited<ReturnType<typeof startRunscGateway>>;
let client: GatewayClient;
let kernelId: string;
const channels: Record<'v1' | 'legacy', KernelChannel> = {} as never;

beforeAll(async () => {
  gateway = await startRunscGateway();
  client = createGatewayClient({ baseUrl: gateway.url, token: gateway.tokenA });
  kernelId = (await client.startKernel()).id;
  channels.v1 = await client.connect(kernelId, { protocol: 'v1' });
  channels.legacy = await client.connect(kernelId, { protocol: 'legacy' });
}, 900_000);

afterAll(async () => {
  await gateway?.close();
});

const OUTPUTS = `
import sys, base64, zlib, struct
from IPython.display import display, clear_output, Image
def _png():
    raw = b'\\x00\\xff\\x00\\x00'
    chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    return b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 1, 1, 8, 2, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b'')
print('one')
display(Image(data=_png(), format='png'))
handle = display('before', display_id='kiln-d1')
handle.update('after')
clear_output(wait=True)
print('two', file=sys.stderr)
6 * 7
`;

function summary(messages: JupyterMessage[]) {
  return messages.map((m) => {
    const c = m.content;
    switch (m.header.msg_type) {
      case 'stream':
        return `stream:${c.name}:${String(c.text).trim()}`;
      case 'display_data':
      case 'update_display_data':
      case 'execute_result': {
        const data = c.data as Record<string, string>;
        const id = (c.transient as { display_id?: string } | undefined)?.display_id;
        return `${m.header.msg_type}:${Object.keys(data).sort().join('+')}${id ? `#${id}` : ''}`;
      }
      case 'status':
        return `status:${c.execution_state}`;
      default:
        return m.header.msg_type;
    }
  });
}

describe.each(['v1', 'legacy'] as const)('a real kernel over the %s framing', (protocol) => {
  it('delivers every output type in order', async () => {
    const { reply, iopub } = await channels[protocol].execute(OUTPUTS);
    expect(reply.content.status).toBe('ok');
    expect(summary(iopub)).toEqual([
      'status:busy',
      'execute_input',
      'stream:stdout:one',
      'display_data:image/png+text/plain',
      'display_data:text/plain#kiln-d1',
      'update_display_data:text/plain#kiln-d1',
      'clear_output',
      'stream:stderr:two',
      'execute_result:text/plain',
      'status:idle',
    ]);
    const png = iopub.find((m) => m.header.msg_type === 'display_data')?.content.data as unknown as Record<
      string,
      string
    >;
    expect(
      Buffer.from(png['image/png'] as string, 'base64')
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
    expect(iopub.find((m) => m.header.msg_type === 'clear_output')?.content.wait).toBe(true);
    expect(iopub.at(-2)?.content.data).toEqual({ 'text/plain': '42' });
  });

  it('reports errors with a traceback', async () => {
    const { reply, iopub } = await channels[protocol].execute('def f():\n    return 1 / 0\nf()');
    expect(reply.content).toMatchObject({ status: 'error', ename: 'ZeroDivisionError' });
    const error = iopub.find((m) => m.header.msg_type === 'error');
    expect(error?.content.ename).toBe('ZeroDivisionError');
    const traceback = String((error?.content.traceback as string[] | undefined)?.join('\n'));
    expect(traceback).toContain('division by zero');
    expect(traceback).toContain('Traceback (most recent call last)');
    expect(traceback).toMatch(/----> 2/);
  });

  it('round-trips input() over stdin', async () => {
    const channel = channels[protocol];
    const off = channel.onMessage((message) => {
      if (message.header.msg_type !== 'input_request') return;
      const answer = channel.message('stdin', 'input_reply', { value: 'Ada Lovelace ✓' });
      answer.parent_header = message.header;
      channel.send(answer);
    });
    const { iopub } = await channel.execute("name = input('Name? ')\nprint('hello', name)", {
      allowStdin: true,
    });
    off();
    expect(
      iopub
        .filter((m) => m.header.msg_type === 'stream')
        .map((m) => m.content.text)
        .join(''),
    ).toBe('hello Ada Lovelace ✓\n');
  });

  it('completes and inspects with non-ASCII code (cursor in code points)', async () => {
    const channel = channels[protocol];
    await channel.execute("données_été = {'ключ': '😀'}");
    const code = "s = '😀🎉'; données_";
    const cursor = [...code].length;
    const completion = await channel.request('shell', 'complete_request', { code, cursor_pos: cursor });
    expect(completion.content.matches).toContain('données_été');
    expect(completion.content.cursor_end).toBe(cursor);
    expect(completion.content.cursor_start).toBe(cursor - [...'données_'].length);
    const inspectCode = "t = '😀'; len";
    const inspection = await channel.request('shell', 'inspect_request', {
      code: inspectCode,
      cursor_pos: [...inspectCode].length,
      detail_level: 0,
    });
    expect(inspection.content.found).toBe(true);
    expect(JSON.stringify(inspection.content.data)).toContain('Return the number of items');
  });

  it('carries comm binary buffers both ways byte for byte', async () => {
    const channel = channels[protocol];
    await channel.execute(`
def _echo(comm, open_msg):
    @comm.on_msg
    def _(msg):
        comm.send({'n': len(msg['buffers'])}, buffers=[bytes(b) for b in msg['buffers']])
get_ipython().kernel.comm_manager.register_target('kiln-echo', _echo)
`);
    const commId = `comm-${protocol}`;
    channel.send(
      channel.message('shell', 'comm_open', { comm_id: commId, target_name: 'kiln-echo', data: {} }),
    );
    const payload = new Uint8Array(5 * 1024 * 1024).map((_, i) => (i * 31 + 7) % 256);
    const echoed = new Promise<JupyterMessage>((resolve) => {
      const off = channel.onMessage((m) => {
        if (m.header.msg_type === 'comm_msg' && m.content.comm_id === commId) {
          off();
          resolve(m);
        }
      });
    });
    channel.send(
      channel.message('shell', 'comm_msg', { comm_id: commId, data: {} }, [
        payload,
        new Uint8Array([0, 1, 255]),
      ]),
    );
    const message = await echoed;
    expect(message.content.data).toEqual({ n: 2 });
    expect(Buffer.from(message.buffers[0] as Uint8Array).equals(Buffer.from(payload))).toBe(true);
    expect(Array.from(message.buffers[1] as Uint8Array)).toEqual([0, 1, 255]);
  }, 60_000);
});
