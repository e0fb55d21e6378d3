/** Every error code a Kiln domain package may throw, with the HTTP status it maps to. */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  CSRF_FAILED: 403,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  EMAIL_TAKEN: 409,
  LAST_OWNER: 409,
  INVITATION_INVALID: 410,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  QUOTA_EXCEEDED: 429,
  /** Credits used up or a budget's hard cap reached: work is paused until someone pays or raises it. */
  SPEND_LIMIT_REACHED: 402,
  GPU_TYPE_UNKNOWN: 400,
  GPU_UNAVAILABLE: 503,
  KERNEL_NOT_FOUND: 404,
  KERNEL_DEAD: 409,
  /** The kernel existed but was stopped (a restarted gateway could not take it back); the message says why. */
  KERNEL_GONE: 410,
  SANDBOX_FAILED: 500,
  /** A service Kiln needs (the database) is unreachable; the answer carries Retry-After. */
  SERVICE_UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/**
 * Marks DomainErrors across module copies: a bundler may load this file twice (the web server's
 * bundle and a package it imports at run time), and then `instanceof` against one copy fails for
 * errors made by the other, turning every 4xx into a 500.
 */
const BRAND = Symbol.for('kiln.DomainError');

/** An error a user can act on: a stable `code` plus a message written for a person. */
export class DomainError extends Error {
  /** `instanceof` checks the brand, so it holds for errors from any copy of this module. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // A subclass keeps the ordinary prototype check; `this` is whichever class `instanceof` names.
    // biome-ignore lint/complexity/noThisInStatic: the class being checked against is the point
    if (this !== DomainError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
  }

  readonly [BRAND] = true;
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'DomainError';
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export function isDomainError(error: unknown): error is DomainError {
  return error instanceof DomainError;
}
