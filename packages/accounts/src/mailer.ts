import nodemailer from 'nodemailer';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

/** Sends email; Kiln uses it for invitations when SMTP is configured. */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): void;
}

/** A mailer over SMTP, e.g. `smtp://user:pass@mail.example.com:587`. */
export function createMailer(options: { smtpUrl: string; from: string }): Mailer {
  const transport = nodemailer.createTransport(options.smtpUrl);
  return {
    async send(message) {
      await transport.sendMail({ from: options.from, ...message });
    },
    close() {
      transport.close();
    },
  };
}

/** The invitation email: plain text first, so it reads well in every client. */
export function invitationEmail(input: {
  to: string;
  workspaceName: string;
  inviterName: string;
  role: string;
  url: string;
  expiresAt: Date;
}): MailMessage {
  const role = input.role.toLowerCase();
  const subject = `${input.inviterName} invited you to ${input.workspaceName} on Kiln`;
  const text = [
    `${input.inviterName} invited you to join the workspace "${input.workspaceName}" on Kiln as ${role}.`,
    '',
    `Accept the invitation: ${input.url}`,
    '',
    `The link works once and expires on ${input.expiresAt.toUTCString()}.`,
    'If you did not expect this email, you can ignore it.',
  ].join('\n');
  return { to: input.to, subject, text };
}
