import type { Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMailer, invitationEmail } from './mailer.ts';
import { startSmtpSink } from './smtp-sink.ts';

let server: Server | null = null;
afterEach(() => {
  server?.close();
  server = null;
});

describe('createMailer', () => {
  it('delivers an invitation over SMTP', async () => {
    const sink = await startSmtpSink();
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
