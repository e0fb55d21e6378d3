import { describe, expect, it } from 'vitest';
import { errorCode, errorMessage } from './errors.ts';

describe('errorMessage', () => {
  it('prefers the first field error of a validation failure', () => {
    const error = {
      message: 'Invalid input',
      data: { code: 'BAD_REQUEST', fieldErrors: { password: ['Use at least 10 characters'] } },
    };
    expect(errorMessage(error)).toBe('Use at least 10 characters');
  });

  it('shows the server message, and a readable line for network failures', () => {
    expect(errorMessage({ message: 'Incorrect email or password', data: { code: 'UNAUTHORIZED' } })).toBe(
      'Incorrect email or password',
    );
    expect(errorMessage(new TypeError('Failed to fetch'))).toMatch(/Cannot reach the server/);
    expect(errorMessage(undefined)).toMatch(/Something went wrong/);
  });

  it('reads the tRPC code', () => {
    expect(errorCode({ data: { code: 'NOT_FOUND' } })).toBe('NOT_FOUND');
    expect(errorCode(new Error('x'))).toBeNull();
  });
});
