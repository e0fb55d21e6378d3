import { DomainError, ERROR_STATUS, type ErrorCode } from '@kiln/core';
import { TRPCError } from '@trpc/server';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  DATABASE_UNAVAILABLE_MESSAGE,
  errorFormatter,
  INTERNAL_MESSAGE,
  setInternalErrorReporter,
  toTRPCError,
} from './error-formatter.ts';

describe('toTRPCError', () => {
  it('maps every domain error code by its HTTP status and keeps the message', () => {
    const expected: Record<number, string> = {
      400: 'BAD_REQUEST',
      401: 'UNAUTHORIZED',
      402: 'PAYMENT_REQUIRED',
      403: 'FORBIDDEN',
      404: 'NOT_FOUND',
      409: 'CONFLICT',
      410: 'PRECONDITION_FAILED',
      413: 'PAYLOAD_TOO_LARGE',
      429: 'TOO_MANY_REQUESTS',
      500: 'INTERNAL_SERVER_ERROR',
      503: 'SERVICE_UNAVAILABLE',
    };
    const reported = vi.fn();
    setInternalErrorReporter(reported);
    for (const code of Object.keys(ERROR_STATUS) as ErrorCode[]) {
      const mapped = toTRPCError(
        new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause: new DomainError(code, `msg ${code}`) }),
      );
      expect(mapped.code).toBe(expected[ERROR_STATUS[code]]);
      if (mapped.code !== 'INTERNAL_SERVER_ERROR') expect(mapped.message).toBe(`msg ${code}`);
    }
  });

  it('maps a DomainError from a second copy of @kiln/core (as a bundle loads it) by its code', async () => {
    // The query string makes the module loader evaluate errors.ts again: a distinct DomainError class.
    const copy = (await import(
      // @ts-expect-error: a query on a module path is a loader feature TypeScript does not model
      '../../core/src/errors.ts?second-copy'
    )) as typeof import('@kiln/core');
    expect(copy.DomainError).not.toBe(DomainError);
    const error = new copy.DomainError('CONFLICT', 'No cell of this notebook is waiting for input');
    expect(error).toBeInstanceOf(DomainError);
    const mapped = toTRPCError(new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause: error }));
    expect(mapped.code).toBe('CONFLICT');
    expect(mapped.message).toBe('No cell of this notebook is waiting for input');
    expect(new Error('plain')).not.toBeInstanceOf(DomainError);
  });

  it('answers a database outage with SERVICE_UNAVAILABLE and a message saying what to do, not a 500', () => {
    const reported = vi.fn();
    setInternalErrorReporter(reported);
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const wrapped = Object.assign(new Error('Invalid `db.session.findUnique()` invocation'), {
      cause: refused,
    });
    const mapped = toTRPCError(new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause: wrapped }));
    expect(mapped.code).toBe('SERVICE_UNAVAILABLE');
    expect(mapped.message).toBe(DATABASE_UNAVAILABLE_MESSAGE);
    expect(reported).not.toHaveBeenCalled();
  });

  it('turns zod errors into BAD_REQUEST with a readable message and field errors', () => {
    const result = z
      .object({ name: z.string().max(3, 'Name must be at most 3 characters') })
      .safeParse({ name: 'long' });
    const mapped = toTRPCError(new TRPCError({ code: 'BAD_REQUEST', cause: result.error }));
    expect(mapped.code).toBe('BAD_REQUEST');
    expect(mapped.message).toBe('name: Name must be at most 3 characters');
    const shape = errorFormatter({
      shape: {
        message: mapped.message,
        code: -32600,
        data: { code: 'BAD_REQUEST', httpStatus: 400, stack: 'secret stack' },
      },
      error: mapped,
    });
    expect(shape.data).not.toHaveProperty('stack');
    expect(shape.data.fieldErrors).toEqual({ name: ['Name must be at most 3 characters'] });
  });

  it('hides unexpected errors behind a generic 500 and reports them', () => {
    const reported = vi.fn();
    setInternalErrorReporter(reported);
    const mapped = toTRPCError(
      new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause: new Error('password=hunter2 at db.ts:12') }),
    );
    expect(mapped.code).toBe('INTERNAL_SERVER_ERROR');
    expect(mapped.message).toBe(INTERNAL_MESSAGE);
    expect(reported).toHaveBeenCalledOnce();
  });
});
