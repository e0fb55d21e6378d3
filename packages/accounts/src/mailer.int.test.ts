import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMailer, invitationEmail } from './mailer.ts';

/** The smallest SMTP server that accepts mail, so the mailer is tested against the real protocol. */
async function smtpSink(): Promise<{ server: Server; port: number; messages: string[] }> {
  const messages: string[] = [];
  const server = createServer((socket) => {
    let inData = false;
    let buffer = '';
    socket.write('220 sink ESMTP\r\n');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      while (true) {
        if (inData) {
          const end = buffer.indexOf('\r\n.\r\n');
          if (end < 0) return;
          messages.push(buffer.slice(0, end));
          buffer = buffer.slice(end + 5);
          inData = false;
          socket.write('250 queued\r\n');
          continue;
        }
        const newline = buffer.indexOf('\r\n');
        if (newline < 0) return;
        const line = buffer.slice(0, newline).toUpperCase();
        buffer = buffer.slice(newline + 2);
        if (line.startsWith('EHLO') || line.startsWith('HELO')) socket.write('250 sink\r\n');
        else if (line.startsWith('DATA')) {
          inData = true;
          socket.write('354 go ahead\r\n');
        } else if (line.startsWith('QUIT')) socket.end('221 bye\r\n');
        else socket.write('250 ok\r\n');
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0, messages };
}

let server: Server | null = null;
afterEach(() => {
  server?.close();
  server = null;
});

describe('createMailer', () => {
  it('delivers an invitation over SMTP', async () => {
    const sink = await smtpSink();
    server = sink.server;
    const mailer = createMailer({
      smtpUrl: `smtp://127.0.0.1:${sink.port}`,
      from: 'Kiln <kiln@example.com>',
    });
    const message = invitationEmail({
      to: 'grace@example.com',
      workspaceName: 'Research',
      inviterName: 'Ada',
      role: 'EDITOR',
      url: 'http://localhost:3000/invite/abc',
      expiresAt: new Date('2030-01-01T00:00:00Z'),
    });
    await mailer.send(message);
    mailer.close();
    expect(sink.messages).toHaveLength(1);
    expect(sink.messages[0]).toContain('To: grace@example.com');
    expect(sink.messages[0]).toContain('Subject: Ada invited you to Research on Kiln');
    expect(sink.messages[0]).toContain('http://localhost:3000/invite/abc');
  });
});
