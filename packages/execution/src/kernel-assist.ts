import type { JupyterMessage } from '@kiln/kernel-protocol/client';
import { toCodePoints, toUtf16 } from './code-points.ts';
import type { CompletionResult, InspectionResult } from './types.ts';

/** Whatever can send a quiet shell request to a notebook's kernel (a `NotebookSession`). */
export interface QuietRequester {
  quietRequest(
    msgType: string,
    content: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<JupyterMessage | null>;
}

const TYPES_KEY = '_jupyter_types_experimental';

/** Completions at `cursorPos` (UTF-16 offset in `code`); empty when no kernel answers. */
export async function completeCode(
  kernel: QuietRequester | undefined,
  code: string,
  cursorPos: number,
  timeoutMs: number,
): Promise<CompletionResult> {
  const empty: CompletionResult = { matches: [], cursorStart: cursorPos, cursorEnd: cursorPos, metadata: {} };
  // A connection that breaks mid-request leaves the editor without suggestions, not with an error.
  const reply = await kernel
    ?.quietRequest('complete_request', { code, cursor_pos: toCodePoints(code, cursorPos) }, timeoutMs)
    .catch(() => null);
  const content = reply?.content;
  if (content?.status !== 'ok' || !Array.isArray(content.matches)) return empty;
  const at = (value: unknown, fallback: number) =>
    typeof value === 'number' && Number.isInteger(value) ? toUtf16(code, value) : fallback;
  const metadata = isRecord(content.metadata) ? { ...content.metadata } : {};
  const types = metadata[TYPES_KEY];
  if (Array.isArray(types)) {
    // IPython's typed matches carry their own code-point ranges.
    metadata[TYPES_KEY] = types.filter(isRecord).map((entry) => ({
      ...entry,
      start: at(entry.start, cursorPos),
      end: at(entry.end, cursorPos),
    }));
  }
  return {
    matches: content.matches.filter((match): match is string => typeof match === 'string'),
    cursorStart: at(content.cursor_start, cursorPos),
    cursorEnd: at(content.cursor_end, cursorPos),
    metadata,
  };
}

/** What the kernel knows about the name at `cursorPos` (UTF-16 offset); not found when no kernel answers. */
export async function inspectCode(
  kernel: QuietRequester | undefined,
  code: string,
  cursorPos: number,
  detailLevel: 0 | 1,
  timeoutMs: number,
): Promise<InspectionResult> {
  const reply = await kernel
    ?.quietRequest(
      'inspect_request',
      { code, cursor_pos: toCodePoints(code, cursorPos), detail_level: detailLevel },
      timeoutMs,
    )
    .catch(() => null);
  const content = reply?.content;
  if (content?.status !== 'ok' || content.found !== true || !isRecord(content.data)) {
    return { found: false, data: {} };
  }
  return { found: true, data: content.data };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
