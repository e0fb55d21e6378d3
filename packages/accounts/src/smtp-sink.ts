import { once } from 'node:events';
import { createServer, type Server } from 'node:net';

/** A running SMTP sink: every message it accepted, raw (headers and quoted-printable body). */
export interface SmtpSink {
  server: Server;
  port: number;
  messages: string[];
  close(): void;
}

/**
 * The smallest SMTP server that accepts mail, so mail is tested against the real protocol (the
 * mailer's tests, sign-up by email confirmation, and the e2e tests of it).
 */
export async function startSmtpSink(): Promise<SmtpSink> {
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
  const port = typeof address === 'object' && address ? address.port : 0;
  return { server, port, messages, close: () => server.close() };
}

/** A message's text with quoted-printable soft line breaks joined (a long link spans lines otherwise). */
export function unfoldedText(message: string): string {
  return message.replace(/=\r\n/g, '');
}
