import { describe, expect, it } from 'vitest';
import { readCookie, serializeCookie } from './cookies.ts';

describe('serializeCookie', () => {
  it('writes an httpOnly, SameSite=Lax, Secure session cookie with an expiry', () => {
    const expires = new Date('2030-01-02T03:04:05Z');
    expect(serializeCookie('kiln_session', 'abc', { httpOnly: true, secure: true, expires })).toBe(
      'kiln_session=abc; Path=/; SameSite=Lax; Expires=Wed, 02 Jan 2030 03:04:05 GMT; HttpOnly; Secure',
    );
  });

  it('clears a cookie with Max-Age=0 and leaves Secure off over http', () => {
    expect(serializeCookie('kiln_session', '', { httpOnly: true, maxAgeSeconds: 0 })).toBe(
      'kiln_session=; Path=/; SameSite=Lax; Max-Age=0; HttpOnly',
    );
  });
});

describe('readCookie', () => {
  it('finds one cookie among several and decodes it', () => {
    expect(readCookie('a=1; kiln_csrf=x%2By; kiln_session=s', 'kiln_csrf')).toBe('x+y');
    expect(readCookie('kiln_session_old=1; kiln_session=s', 'kiln_session')).toBe('s');
  });

  it('answers null when the cookie or header is absent', () => {
    expect(readCookie(null, 'kiln_session')).toBeNull();
    expect(readCookie('other=1', 'kiln_session')).toBeNull();
  });
});
