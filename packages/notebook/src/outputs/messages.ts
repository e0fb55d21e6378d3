import type { JsonObject, JsonValue, OutputJson } from '../document/types.ts';

/** The parts of a Jupyter iopub message the output reducer reads. */
export interface IopubMessage {
  header: { msg_type: string };
  content: Record<string, unknown>;
}

function displayId(content: Record<string, unknown>): string | undefined {
  const transient = content.transient as { display_id?: unknown } | undefined;
  return typeof transient?.display_id === 'string' ? transient.display_id : undefined;
}

/** The display id an iopub message carries in `transient.display_id`, if any. */
export function messageDisplayId(message: IopubMessage): string | undefined {
  return displayId(message.content);
}

function bundle(value: unknown): JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : {};
}

/**
 * The nbformat output an iopub message adds to a cell (stream, display_data, execute_result,
 * error), or null for messages that add none. A display id is kept under `transient` so later
 * `update_display_data` messages can find the output; file export drops it.
 */
export function outputFromMessage(message: IopubMessage): OutputJson | null {
  const { content } = message;
  const id = displayId(content);
  const transient: { transient?: JsonObject } = id === undefined ? {} : { transient: { display_id: id } };
  switch (message.header.msg_type) {
    case 'stream':
      return {
        output_type: 'stream',
        name: String(content.name ?? 'stdout'),
        text: String(content.text ?? ''),
      };
    case 'display_data':
      return {
        output_type: 'display_data',
        data: bundle(content.data),
        metadata: bundle(content.metadata),
        ...transient,
      };
    case 'execute_result':
      return {
        output_type: 'execute_result',
        execution_count: (content.execution_count as JsonValue | undefined) ?? null,
        data: bundle(content.data),
        metadata: bundle(content.metadata),
        ...transient,
      };
    case 'error':
      return {
        output_type: 'error',
        ename: String(content.ename ?? ''),
        evalue: String(content.evalue ?? ''),
        traceback: Array.isArray(content.traceback) ? content.traceback.map(String) : [],
      };
    default:
      return null;
  }
}
