import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureFunction, runscPython } from './dependency-capture.ts';

const root = mkdtempSync(join(tmpdir(), 'kiln-capture-'));
const run = runscPython({ rootDir: root });
afterAll(() => rmSync(root, { recursive: true, force: true }));

function codeCells(name: string): string[] {
  const notebook = JSON.parse(readFileSync(new URL(`../../test/fixtures/${name}`, import.meta.url), 'utf8'));
  return notebook.cells
    .filter((cell: { cell_type: string }) => cell.cell_type === 'code')
    .map((cell: { source: string | string[] }) =>
      Array.isArray(cell.source) ? cell.source.join('') : cell.source,
    );
}

describe('dependency capture (Python ast in a runsc sandbox)', () => {
  it('follows calls through helper functions and module variables in a PyTorch notebook', async () => {
    const cells = codeCells('ShusenTang__Dive-into-DL-PyTorch__3.16_kaggle-house-price.ipynb');
    const captured = await captureFunction(run, cells, 'k_fold');
    expect(captured.definitions.map((d) => d.name)).toEqual([
      'loss',
      'get_net',
      'log_rmse',
      'train',
      'get_k_fold_data',
    ]);
    expect(captured.imports.map((i) => i.source)).toEqual([
      'import torch',
      'import torch.nn as nn',
      'import d2lzh_pytorch as d2l',
    ]);
    // Imports the function never reads (pandas, numpy, sys) stay out; the %matplotlib magic is ignored.
    expect(captured.source).not.toContain('import pandas');
    expect(captured.source).not.toContain('%matplotlib');
    expect(captured.missing).toEqual([]);
    expect(captured.parameters.map((p) => p.name)).toEqual([
      'k',
      'X_train',
      'y_train',
      'num_epochs',
      'learning_rate',
      'weight_decay',
      'batch_size',
    ]);
    expect(captured.source.trimEnd().endsWith('return train_l_sum / k, valid_l_sum / k')).toBe(true);
  });

  it('keeps the definition that precedes the function when a name is rebound later (sklearn notebook)', async () => {
    const cells = codeCells('jakevdp__sklearn_tutorial__03.1-Classification-SVMs.ipynb');
    const captured = await captureFunction(run, cells, 'plot_svm');
    expect(captured.parameters).toEqual([{ name: 'N', kind: 'keyword', required: false, default: '10' }]);
    expect(captured.definitions.map((d) => [d.name, d.kind])).toEqual([
      ['plot_svc_decision_function', 'function'],
    ]);
    expect(captured.imports.flatMap((i) => i.names)).toEqual(['np', 'plt', 'make_blobs', 'SVC']);
    // The module-level X, y and clf of other cells are the function's own locals here, not captured.
    expect(captured.definitions.some((d) => d.name === 'clf')).toBe(false);
  });

  it('captures a self-contained function alone, and reports decorated redefinitions by their last form', async () => {
    const cells = codeCells('jupyter-widgets__ipywidgets__Using_Interact.ipynb');
    const printer = await captureFunction(run, cells, 'printer');
    expect(printer.source).toBe('def printer(x, y):\n    print(x, y)\n');
    expect(printer.imports).toEqual([]);
    const h = await captureFunction(run, cells, 'h');
    // `h` is defined twice; the later, decorated one wins, with its decorator and what that needs.
    expect(h.source).toContain('@interact(x=(0.0,20.0,0.5))\ndef h(x=5.5):');
    expect(h.imports.flatMap((i) => i.names)).toContain('interact');
  });

  it('names what the function reads but no cell defines, and refuses unknown functions clearly', async () => {
    const captured = await captureFunction(
      run,
      ['import math\n', 'def area(r):\n    return math.pi * r * r * scale\n'],
      'area',
    );
    expect(captured.missing).toEqual(['scale']);
    expect(captured.source).toBe('import math\n\ndef area(r):\n    return math.pi * r * r * scale\n');
    await expect(captureFunction(run, ['def a():\n    pass\n'], 'b')).rejects.toThrow(
      "No top-level function named 'b' in these cells (functions: a)",
    );
    await expect(captureFunction(run, ['x = 1'], 'os.system')).rejects.toThrow('is not a Python name');
  });

  it('reports a cell that is not Python and still captures from the others', async () => {
    const captured = await captureFunction(run, ['def f(:\n', 'def g():\n    return 1\n'], 'g');
    expect(captured.skippedCells).toEqual([{ cell: 0, error: expect.stringContaining('line 1') }]);
    expect(captured.source).toBe('def g():\n    return 1\n');
  });
});
