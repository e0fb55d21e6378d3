import * as Y from 'yjs';
import { findCell, insertCell } from '../document/cells.ts';
import { createNotebookDoc, type YCell } from '../document/notebook-doc.ts';
import type { JsonObject } from '../document/types.ts';

/**
 * A function file is stored as a notebook document with two code cells: the module people edit, and
 * the call a run executes after it (written by the server for each run; its outputs are the run's).
 */
export const FUNCTION_MODULE_CELL = 'module';
/** The cell whose source is the call of the last run and whose outputs are that run's output. */
export const FUNCTION_CALL_CELL = 'call';

/** What a new function file holds. */
export const DEFAULT_FUNCTION_SOURCE = `def greet(name: str = "world", excited: bool = False) -> str:
    """Run me with {"name": "Kiln"}."""
    greeting = f"Hello, {name}"
    print("greeting", name)
    return greeting + ("!" if excited else ".")
`;

const PYTHON_KERNEL: JsonObject = {
  kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' },
  language_info: { name: 'python' },
};

/** A function file's document: the module (with `source`) and an empty call cell. */
export function createFunctionFileDoc(source: string = DEFAULT_FUNCTION_SOURCE): Y.Doc {
  const doc = createNotebookDoc({ metadata: PYTHON_KERNEL });
  doc.transact(() => {
    insertCell(doc, { id: FUNCTION_MODULE_CELL, cell_type: 'code', source });
    insertCell(doc, { id: FUNCTION_CALL_CELL, cell_type: 'code', source: '' });
  });
  return doc;
}

/** The module and call cells of a function file's document (undefined while it has not synced). */
export function functionFileCells(doc: Y.Doc): { module?: YCell; call?: YCell } {
  return { module: findCell(doc, FUNCTION_MODULE_CELL), call: findCell(doc, FUNCTION_CALL_CELL) };
}

/** The module's text, or '' when the document has none. */
export function functionModuleSource(doc: Y.Doc): string {
  const source = functionFileCells(doc).module?.get('source');
  return source instanceof Y.Text ? source.toString() : '';
}

/** A function defined at the top level of a module. */
export interface ModuleFunction {
  name: string;
  async: boolean;
  /** 1-based line of its `def`. */
  line: number;
  /** Its parameter list as written on the `def` line (may be cut where the line ends). */
  params: string;
}

const DEF_LINE = /^(async[ \t]+)?def[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]*\(([^\n]*)/;
const TRIPLE_QUOTES = /"""|'''/g;

/**
 * The functions a module defines at its top level (`def` or `async def` at column 0), in order, the
 * last definition winning for a name defined twice. Lines inside triple-quoted strings are skipped.
 */
export function listModuleFunctions(source: string): ModuleFunction[] {
  const found = new Map<string, ModuleFunction>();
  let openQuote: string | null = null;
  source.split(/\r\n|\r|\n/).forEach((text, index) => {
    const insideString = openQuote !== null;
    for (const match of text.matchAll(TRIPLE_QUOTES)) {
      if (openQuote === null) openQuote = match[0];
      else if (openQuote === match[0]) openQuote = null;
    }
    if (insideString) return;
    const def = DEF_LINE.exec(text);
    if (!def) return;
    const name = def[2] as string;
    const params = (def[3] as string).replace(/\)\s*(->[^:]*)?:\s*(#.*)?$/, '').trim();
    found.delete(name);
    found.set(name, { name, async: Boolean(def[1]), line: index + 1, params });
  });
  return [...found.values()];
}

/**
 * The Python a run executes after the module: calls `fn` with `args` as keyword arguments (passed as
 * JSON text, never spliced into code) and shows the result as the cell's value.
 */
export function functionCallSource(fn: Pick<ModuleFunction, 'name' | 'async'>, args: JsonObject): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(fn.name)) throw new RangeError(`${fn.name} is not a function name`);
  // A JSON string literal is also a valid Python string literal (same escapes, UTF-8 source).
  const argsLiteral = JSON.stringify(JSON.stringify(args));
  return [
    `# Run by Kiln: ${fn.name}(**arguments)`,
    'import json as __kiln_json',
    `__kiln_result = ${fn.async ? 'await ' : ''}${fn.name}(**__kiln_json.loads(${argsLiteral}))`,
    '__kiln_result',
    '',
  ].join('\n');
}
