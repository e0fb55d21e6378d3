import { DomainError, ERROR_STATUS, type ErrorCode, isDomainError } from '@kiln/core';
import { errorText } from '@kiln/kernel-protocol';
import { GatewayError } from '@kiln/kernel-protocol/client';

// How gateway failures read to a person and map to Kiln's error codes; the kernel link and the
// session use them when a start, reattach or request to the gateway fails.

/** Why the gateway says a kernel is gone (410, KERNEL_GONE): its own words, from REST or a refused websocket. */
export function goneMessage(error: unknown): string | null {
  const body = (error as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      const message = (JSON.parse(body) as { message?: unknown }).message;
      if (typeof message === 'string' && message) return message;
    } catch {
      return null;
    }
  }
  return error instanceof GatewayError && error.message ? error.message : null;
}

const UNREACHABLE =
  /fetch failed|ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ETIMEDOUT|socket hang up|other side closed/i;

/**
 * A gateway failure as a person should read it: what happened and what to do, never a bare
 * `fetch failed`. Refusals the gateway explains itself (quota, GPU, bad request) keep its words.
 */
export function describeFailure(error: unknown): string {
  if (error instanceof GatewayError) {
    if (error.code || error.status < 500) return error.message;
    return `the kernel service failed (HTTP ${error.status}). Try again; if it keeps failing, the kernel gateway needs attention.`;
  }
  const chain = [error, (error as { cause?: unknown } | null)?.cause];
  const text = chain
    .map((e) => `${errorText(e)} ${String((e as { code?: unknown } | null)?.code ?? '')}`)
    .join(' ');
  if (UNREACHABLE.test(text) || (error as { status?: unknown } | null)?.status === 0) {
    return 'Kiln’s kernel service cannot be reached right now (it may be restarting). Try again in a few seconds; if it keeps failing, the kernel gateway needs attention.';
  }
  return errorText(error);
}

/** Gateway failures as DomainErrors: the gateway's own code where it sent a known one. */
export function asDomainError(error: unknown, what: string): DomainError {
  if (isDomainError(error)) return error;
  if (error instanceof GatewayError) {
    const code = error.code && error.code in ERROR_STATUS ? (error.code as ErrorCode) : 'SANDBOX_FAILED';
    return new DomainError(code, `${what}: ${describeFailure(error)}`);
  }
  const described = describeFailure(error);
  // The gateway not answering is an outage (503, try again), not a failure of this request.
  const code = described === errorText(error) ? 'SANDBOX_FAILED' : 'SERVICE_UNAVAILABLE';
  return new DomainError(code, `${what}: ${described}`);
}
