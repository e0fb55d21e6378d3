// Prisma's own codes for "cannot reach / lost / timed out waiting for the database server".
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
// What the driver adapter reports (DriverAdapterError's cause.kind) for the same.
const ADAPTER_KINDS = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
]);
// Socket errors of node-postgres, and Postgres's own "shutting down / starting up / too many clients".
const SYSTEM_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
const MESSAGES =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Can't reach database server|Server has closed the connection|Connection refused/i;

/**
 * Whether `error` means the database cannot be reached now (down, restarting, refusing connections),
 * as opposed to a query that failed: the one place that knows, so callers answer 503 and retry
 * instead of a bare 500. Follows `cause` chains (Prisma wraps the driver's error).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const { code, kind, message, originalCode } = current as Record<string, unknown>;
    if (
      typeof code === 'string' &&
      (PRISMA_CODES.has(code) || SYSTEM_CODES.has(code) || SQLSTATES.has(code))
    ) {
      return true;
    }
    if (typeof code === 'string' && code.startsWith('08')) return true;
    if (typeof originalCode === 'string' && (SQLSTATES.has(originalCode) || originalCode.startsWith('08'))) {
      return true;
    }
    if (typeof kind === 'string' && ADAPTER_KINDS.has(kind)) return true;
    if (typeof message === 'string' && MESSAGES.test(message)) return true;
    const errors = (current as { errors?: unknown }).errors;
    // node's AggregateError (every address of localhost refused) carries the real causes here.
    if (Array.isArray(errors) && errors.some((inner) => isDatabaseUnavailable(inner))) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
