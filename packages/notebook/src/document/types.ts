export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** One nbformat output (stream, display_data, execute_result, error or a type we do not know). */
export interface OutputJson {
  output_type: string;
  [key: string]: JsonValue;
}

/** One nbformat cell, with multi-line strings already joined (as nbformat holds them in memory). */
export interface CellJson {
  cell_type: string;
  id?: string;
  metadata: JsonObject;
  source?: string;
  outputs?: OutputJson[];
  execution_count?: number | null;
  attachments?: JsonObject;
  [key: string]: unknown;
}

/** A whole nbformat 4 notebook in memory (what `nbformat.reads` returns). */
export interface NotebookJson {
  nbformat: number;
  nbformat_minor: number;
  metadata: JsonObject;
  cells: CellJson[];
  [key: string]: unknown;
}

/** Runtime-only execution state kept on code cells, as jupyter_ydoc does; never written to files. */
export type ExecutionState = 'idle' | 'queued' | 'running';

/** Whether a JSON value is an object (not an array or null). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Structured-clone of a JSON value (cheaper and stricter than structuredClone for our data). */
export function cloneJson<T>(value: T): T {
  if (Array.isArray(value)) return value.map(cloneJson) as T;
  if (isJsonObject(value)) {
    const out: JsonObject = {};
    for (const key of Object.keys(value)) out[key] = cloneJson(value[key] as JsonValue);
    return out as T;
  }
  return value;
}
