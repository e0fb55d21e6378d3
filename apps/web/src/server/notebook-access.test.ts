import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { checkOrigin } from './notebook-access.ts';

const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe('checkOrigin (cross-site websocket hijacking)', () => {
  it('accepts the app’s own origin and same-origin requests to another host name', () => {
    expect(() =>
      checkOrigin(request({ origin: 'https://kiln.example', host: 'kiln.example' }), 'https://kiln.example'),
    ).not.toThrow();
    expect(() =>
      checkOrigin(
        request({ origin: 'http://127.0.0.1:3000', host: '127.0.0.1:3000' }),
        'http://localhost:3000',
      ),
    ).not.toThrow();
  });

  it('lets non-browser clients (no Origin) through; they cannot carry a victim’s cookie', () => {
    expect(() => checkOrigin(request({ host: 'kiln.example' }), 'https://kiln.example')).not.toThrow();
  });

  it('refuses pages on other sites', () => {
    expect(() =>
      checkOrigin(request({ origin: 'https://evil.example', host: 'kiln.example' }), 'https://kiln.example'),
    ).toThrow(/Cross-site/);
    expect(() =>
      checkOrigin(request({ origin: 'null', host: 'kiln.example' }), 'https://kiln.example'),
    ).toThrow(/Cross-site/);
  });
});
