import { createGitHubAuth, createMailer, type GitHubAuth, type Mailer } from '@kiln/accounts';
import { getEnv } from '../env.ts';

const MAILER_KEY = Symbol.for('kiln.web.mailer');
type Holder = { [MAILER_KEY]?: Mailer | null };

/** The process-wide mailer, or null when SMTP is not configured. */
export function getMailer(): Mailer | null {
  const holder = globalThis as Holder;
  if (holder[MAILER_KEY] === undefined) {
    const { smtp } = getEnv();
    holder[MAILER_KEY] = smtp ? createMailer({ smtpUrl: smtp.url, from: smtp.from }) : null;
  }
  return holder[MAILER_KEY];
}

/** GitHub OAuth, or null when GITHUB_CLIENT_ID/SECRET are not set. */
export function getGitHubAuth(): GitHubAuth | null {
  const { github, appUrl } = getEnv();
  if (!github) return null;
  return createGitHubAuth({
    clientId: github.clientId,
    clientSecret: github.clientSecret,
    redirectUri: `${appUrl}/api/auth/github/callback`,
  });
}
