import { isDomainError } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import { CELL_ID_PATTERN } from '../document/cell-ids.ts';
import { parseIpynb } from './parse.ts';

const nb = (cells: unknown[], minor = 5, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ nbformat: 4, nbformat_minor: minor, metadata: {}, cells, ...extra });

function errorOf(text: string): { code: string; message: string } {
  try {
    parseIpynb(text);
  } catch (error) {
    if (isDomainError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected parseIpynb to fail');
}

describe('parseIpynb', () => {
  it('names the line and column of broken JSON', () => {
    const error = errorOf('{\n "nbformat": 4,\n "cells": [,]\n}');
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toMatch(/not valid JSON: expected a value, found "," \(line 3, column 12\)/);
  });

  it('reads an output stored as one 12 MB string, and refuses unterminated strings quickly', () => {
    const long = `${'x'.repeat(12_000_000)}\\n\\u00e9`;
    const text = nb([
      { cell_type: 'code', id: 'a1', metadata: {}, source: 'print()', execution_count: 1, outputs: [] },
    ]).replace('"outputs":[]', `"outputs":[{"output_type":"stream","name":"stdout","text":"${long}"}]`);
    const parsed = parseIpynb(text);
    expect(JSON.stringify(parsed).length).toBeGreaterThan(12_000_000);

    const started = Date.now();
    expect(errorOf(`{"nbformat": 4, "cells": ["${'a'.repeat(100_000)}`).message).toMatch(/invalid string/);
    expect(errorOf('{"nbformat": 4, "x": "bad \\q escape"}').message).toMatch(/invalid string/);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('refuses JSON nested deeper than 128 levels with a 400, not a stack overflow', () => {
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    const error = errorOf(
      `{"nbformat": 4, "nbformat_minor": 5, "metadata": {"x": ${deep(100_000)}}, "cells": []}`,
    );
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toMatch(/nests deeper than 128 levels \(line 1, column/);
    const fine = parseIpynb(nb([], 5, { metadata: { x: JSON.parse(deep(120)) } }));
    expect(fine.metadata).toHaveProperty('x');
  });

  it('refuses nbformat 1, malformed v3 files, and files without a version', () => {
    expect(errorOf(JSON.stringify({ nbformat: 1, cells: [] })).message).toMatch(
      /older than any Jupyter notebook/,
    );
    expect(errorOf(JSON.stringify({ nbformat: 3, nbformat_minor: 0, metadata: {} })).message).toMatch(
      /"worksheets" must be a list/,
    );
    expect(
      errorOf(JSON.stringify({ nbformat: 3, nbformat_minor: 0, worksheets: [{ cells: [7] }] })).message,
    ).toMatch(/worksheets\[0\]\.cells\[0\]: a cell must be a JSON object/);
    expect(errorOf('{"cells": []}').message).toMatch(/no "nbformat" version/);
    expect(errorOf('[1, 2]').message).toMatch(/must be a JSON object/);
  });

  it('names the cell and field that is wrong', () => {
    expect(
      errorOf(
        nb([
          { cell_type: 'markdown', metadata: {}, source: 'ok' },
          { metadata: {}, source: '' },
        ]),
      ).message,
    ).toBe('cells[1]: "cell_type" must be a string');
    expect(
      errorOf(
        nb([
          {
            cell_type: 'code',
            metadata: {},
            source: '',
            outputs: [{ output_type: 'stream', name: 'stdout', text: 3 }],
          },
        ]),
      ).message,
    ).toBe('cells[0].outputs[0]: stream "text" must be a string or a list of strings');
    expect(errorOf(nb([{ cell_type: 'code', metadata: {}, source: [1] }])).message).toBe(
      'cells[0]: "source" must be a string or a list of strings',
    );
  });

  it('accepts 4.0 to 4.5, joins multi-line strings and drops transient keys like nbformat', () => {
    for (const minor of [0, 1, 2, 3, 4, 5]) {
      const parsed = parseIpynb(
        nb(
          [
            {
              cell_type: 'code',
              id: 'c1',
              metadata: { trusted: true, tags: ['a'] },
              source: ['x = 1\n', 'x'],
              execution_count: 1,
              outputs: [
                { output_type: 'stream', name: 'stdout', text: ['a\n', 'b'] },
                {
                  output_type: 'display_data',
                  data: { 'text/plain': ['1\n', '2'], 'application/json': ['k'] },
                  metadata: {},
                },
              ],
            },
          ],
          minor,
          { metadata: { signature: 'sha256:x', kernelspec: { name: 'python3' } } },
        ),
      );
      const cell = parsed.cells[0];
      expect(parsed.nbformat_minor).toBe(minor);
      expect(parsed.metadata).toEqual({ kernelspec: { name: 'python3' } });
      expect(cell?.source).toBe('x = 1\nx');
      expect(cell?.metadata).toEqual({ tags: ['a'] });
      expect(cell?.outputs?.[0]?.text).toBe('a\nb');
      expect(cell?.outputs?.[1]?.data).toEqual({ 'text/plain': '1\n2', 'application/json': ['k'] });
    }
  });

  it('gives 4.5 cells without an id, or with a repeated one, a new valid id (as nbformat does)', () => {
    const md = (id?: string) => ({
      cell_type: 'markdown',
      metadata: {},
      source: 'same',
      ...(id ? { id } : {}),
    });
    const parsed = parseIpynb(nb([md('dup'), md(), md('dup'), md('keep')]));
    const ids = parsed.cells.map((cell) => cell.id as string);
    expect(ids[0]).toBe('dup');
    expect(ids[3]).toBe('keep');
    expect(new Set(ids).size).toBe(4);
    for (const id of ids) expect(id).toMatch(CELL_ID_PATTERN);
    // Same file, same ids: reloading must not change the document.
    expect(parseIpynb(nb([md('dup'), md(), md('dup'), md('keep')])).cells.map((cell) => cell.id)).toEqual(
      ids,
    );
  });
});
