import { describe, expect, it } from 'vitest';
import { cellToJson } from '../document/cells.ts';
import { getCells } from '../document/notebook-doc.ts';
import {
  createFunctionFileDoc,
  DEFAULT_FUNCTION_SOURCE,
  FUNCTION_CALL_CELL,
  FUNCTION_MODULE_CELL,
  functionCallSource,
  functionModuleSource,
  listModuleFunctions,
} from './function-file.ts';

describe('function file documents', () => {
  it('hold the module cell and an empty call cell', () => {
    const doc = createFunctionFileDoc('def f():\n    return 1\n');
    const cells = getCells(doc)
      .toArray()
      .map((cell) => cellToJson(cell));
    expect(cells.map((cell) => [cell.id, cell.cell_type, cell.source])).toEqual([
      [FUNCTION_MODULE_CELL, 'code', 'def f():\n    return 1\n'],
      [FUNCTION_CALL_CELL, 'code', ''],
    ]);
    expect(functionModuleSource(doc)).toBe('def f():\n    return 1\n');
    expect(functionModuleSource(createFunctionFileDoc())).toBe(DEFAULT_FUNCTION_SOURCE);
  });
});

describe('listModuleFunctions', () => {
  it('finds top-level functions with their parameters, skipping methods, nested defs and strings', () => {
    const source = [
      'import math',
      '',
      '@decorator',
      'def area(radius: float, *, precise=False) -> float:',
      '    def inner(x):',
      '        return x',
      '    return math.pi * radius ** 2',
      '',
      'class Shape:',
      '    def method(self):',
      '        pass',
      '',
      '"""',
      'def not_a_function(x):',
      '"""',
      'async def fetch(url):  # comment',
      '    return url',
      'def multi(',
      '    a,',
      '):',
      '    pass',
    ].join('\n');
    expect(listModuleFunctions(source)).toEqual([
      { name: 'area', async: false, line: 4, params: 'radius: float, *, precise=False' },
      { name: 'fetch', async: true, line: 16, params: 'url' },
      { name: 'multi', async: false, line: 18, params: '' },
    ]);
  });

  it('keeps the last definition of a name defined twice', () => {
    expect(listModuleFunctions('def f(a):\n  pass\ndef g():\n  pass\ndef f(b):\n  pass\n')).toEqual([
      { name: 'g', async: false, line: 3, params: '' },
      { name: 'f', async: false, line: 5, params: 'b' },
    ]);
  });
});

describe('functionCallSource', () => {
  it('passes the arguments as JSON text that Python reads back unchanged', () => {
    const args = { text: 'quote " backslash \\ newline \n tab \t é 😀 \u2028', n: 1.5, list: [null, true] };
    const code = functionCallSource({ name: 'echo', async: false }, args);
    const line = code.split('\n').find((text) => text.startsWith('__kiln_result ='));
    const literal = /loads\((".*")\)\)$/s.exec(line ?? '')?.[1];
    // Python and JSON agree on these escapes, so decoding the literal as JSON is what Python does.
    expect(JSON.parse(JSON.parse(literal ?? '""'))).toEqual(args);
    expect(code).toContain('__kiln_result = echo(**');
    expect(functionCallSource({ name: 'later', async: true }, {})).toContain('= await later(**');
  });

  it('refuses a name that is not a Python identifier', () => {
    expect(() => functionCallSource({ name: 'os.system', async: false }, {})).toThrow(RangeError);
  });
});
