interface ErrorShape {
  message?: unknown;
  data?: { code?: unknown; httpStatus?: unknown; fieldErrors?: unknown } | null;
}

/** A sentence to show a person for any error a tRPC call can throw. */
export function errorMessage(error: unknown): string {
  if (!error || typeof error !== 'object') return 'Something went wrong. Please try again.';
  const shape = error as ErrorShape;
  const fieldErrors = shape.data?.fieldErrors;
  if (fieldErrors && typeof fieldErrors === 'object') {
    const first = Object.values(fieldErrors as Record<string, unknown>).flat()[0];
    if (typeof first === 'string' && first) return first;
  }
  if (typeof shape.message === 'string' && shape.message && !shape.message.startsWith('Unexpected token')) {
    if (shape.message === 'Failed to fetch')
      return 'Cannot reach the server. Check your connection and try again.';
    return shape.message;
  }
  return 'Something went wrong. Please try again.';
}

/** The tRPC error code (`NOT_FOUND`, `UNAUTHORIZED`, ...) of an error, if it has one. */
export function errorCode(error: unknown): string | null {
  const code = (error as ErrorShape | null)?.data?.code;
  return typeof code === 'string' ? code : null;
}
