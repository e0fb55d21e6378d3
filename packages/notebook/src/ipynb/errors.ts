import { DomainError } from '@kiln/core';

/** A file that is not a notebook we can open; the message names the problem and where it is. */
export function notebookFormatError(message: string, path?: string): DomainError {
  return new DomainError(
    'VALIDATION_FAILED',
    path ? `${path}: ${message}` : message,
    path ? { path } : undefined,
  );
}
