import { DomainError } from '@kiln/core';
import type { NotebookScheduleModel } from '@kiln/db';

/** Largest JSON text of an endpoint schedule's keyword arguments. */
export const MAX_ARGS_BYTES = 64 * 1024;

/** What a schedule runs: a notebook ("run all" headless) or an endpoint's live version with fixed kwargs. */
export type ScheduleTarget =
  | { kind: 'notebook'; notebookId: string }
  | { kind: 'endpoint'; endpointId: string; args: Record<string, unknown> };

/** What a schedule row runs. */
export function targetOf(
  row: Pick<NotebookScheduleModel, 'notebookId' | 'endpointId' | 'args'>,
): ScheduleTarget {
  if (row.endpointId)
    return {
      kind: 'endpoint',
      endpointId: row.endpointId,
      args: (row.args ?? {}) as Record<string, unknown>,
    };
  return { kind: 'notebook', notebookId: row.notebookId as string };
}

/** Checks an endpoint schedule's keyword arguments: a JSON object of at most MAX_ARGS_BYTES. */
export function validateArgs(args: unknown): Record<string, unknown> {
  const invalid = (message: string) => new DomainError('VALIDATION_FAILED', message, { field: 'args' });
  if (typeof args !== 'object' || args === null || Array.isArray(args))
    throw invalid('Arguments are a JSON object of keyword arguments, like {"x": 1}');
  let text: string;
  try {
    text = JSON.stringify(args);
  } catch {
    throw invalid('Arguments must be plain JSON');
  }
  if (Buffer.byteLength(text) > MAX_ARGS_BYTES)
    throw invalid(`Arguments are at most ${MAX_ARGS_BYTES / 1024} KiB of JSON`);
  return JSON.parse(text) as Record<string, unknown>;
}
