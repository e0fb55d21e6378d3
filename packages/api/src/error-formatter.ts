import { DomainError } from '@kiln/core';
import { isDatabaseUnavailable } from '@kiln/db';
import { TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import { z } from 'zod';

const CODE_BY_STATUS: Record<number, TRPC_ERROR_CODE_KEY> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  402: 'PAYMENT_REQUIRED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  410: 'PRECONDITION_FAILED',
  413: 'PAYLOAD_TOO_LARGE',
  429: 'TOO_MANY_REQUESTS',
  503: 'SERVICE_UNAVAILABLE',
};

export const INTERNAL_MESSAGE =
  'Something went wrong on our side. Try again; if it keeps happening, contact support.';

export const DATABASE_UNAVAILABLE_MESSAGE =
  'Kiln’s database is not answering right now. Open notebooks keep your edits and save them once it is back; try again in a few seconds.';

/** Seconds a client is told to wait (Retry-After) when the database is unavailable. */
export const RETRY_AFTER_SECONDS = 5;

/** Reports errors nobody anticipated; apps may replace it with their logger. */
let reportInternalError: (error: unknown) => void = (error) => {
  console.error('[kiln/api] internal error', error);
};

/** Sends unexpected errors to the app's logger instead of stderr. */
export function setInternalErrorReporter(report: (error: unknown) => void): void {
  reportInternalError = report;
}

function humanizeZod(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

/**
 * The one mapping from thrown errors to tRPC errors: DomainError codes by HTTP status, zod input
 * errors to BAD_REQUEST with a readable message, anything unexpected to a generic 500.
 */
export function toTRPCError(error: unknown): TRPCError {
  const cause = error instanceof TRPCError && error.cause ? error.cause : error;
  if (cause instanceof DomainError) {
    const code = CODE_BY_STATUS[cause.status];
    if (code) return new TRPCError({ code, message: cause.message, cause });
  }
  if (cause instanceof z.ZodError) {
    return new TRPCError({ code: 'BAD_REQUEST', message: humanizeZod(cause), cause });
  }
  // An outage, not a bug: 503 with a retry hint, and no stack trace per request in the log.
  if (isDatabaseUnavailable(cause)) {
    return new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: DATABASE_UNAVAILABLE_MESSAGE, cause });
  }
  const prismaCode = (cause as { code?: unknown } | null)?.code;
  if (prismaCode === 'P2025') return new TRPCError({ code: 'NOT_FOUND', message: 'Not found' });
  if (prismaCode === 'P2002') return new TRPCError({ code: 'CONFLICT', message: 'That already exists' });
  if (error instanceof TRPCError && error.code !== 'INTERNAL_SERVER_ERROR') return error;
  reportInternalError(cause);
  return new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: INTERNAL_MESSAGE });
}

/** Extra fields of `error.data`: the domain code and per-field messages for forms. */
export interface KilnErrorData {
  domainCode: string | null;
  fieldErrors: Record<string, string[]> | null;
}

function fieldErrorsOf(cause: unknown): Record<string, string[]> | null {
  if (cause instanceof z.ZodError) {
    const flat = z.flattenError(cause);
    const errors: Record<string, string[]> = {};
    for (const [key, messages] of Object.entries(flat.fieldErrors)) {
      if (Array.isArray(messages) && messages.length > 0) errors[key] = messages as string[];
    }
    if (flat.formErrors.length > 0) errors._form = flat.formErrors;
    return errors;
  }
  if (cause instanceof DomainError && typeof cause.details?.field === 'string') {
    return { [cause.details.field]: [cause.message] };
  }
  return null;
}

/** tRPC `errorFormatter`: never a stack trace; adds `domainCode` and `fieldErrors`. */
export function errorFormatter<TShape extends { message: string; data: { stack?: string } }>(opts: {
  shape: TShape;
  error: TRPCError;
}): TShape & { data: KilnErrorData } {
  const { shape, error } = opts;
  const { stack: _stack, ...data } = shape.data;
  const internal = error.code === 'INTERNAL_SERVER_ERROR';
  return {
    ...shape,
    message: internal ? INTERNAL_MESSAGE : shape.message,
    data: {
      ...data,
      domainCode: error.cause instanceof DomainError ? error.cause.code : null,
      fieldErrors: fieldErrorsOf(error.cause),
    },
  };
}
