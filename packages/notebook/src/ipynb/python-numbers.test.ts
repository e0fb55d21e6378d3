import { describe, expect, it } from 'vitest';
import { insertCell, moveCell } from '../document/cells.ts';
import { setCellMetadata } from '../document/metadata.ts';
import { getCells } from '../document/notebook-doc.ts';
import { ipynbToYDoc, parseIpynb, serializeIpynb, yDocToIpynb } from './index.ts';

// Written by nbformat.writes from Python: floats with integral values, a huge int, exponent floats.
const PYTHON_WRITTEN = [
  '{',
  ' "cells": [',
  '  {',
  '   "cell_type": "markdown",',
  '   "metadata": {},',
  '   "source": [',
  '    "text"',
  '   ]',
  '  },',
  '  {',
  '   "cell_type": "code",',
  '   "execution_count": 1,',
  '   "metadata": {',
  '    "papermill": {',
  '     "big": 12345678901234567890,',
  '     "duration": 2.0,',
  '     "huge": 1e+16,',
  '     "neg": -3.0,',
  '     "tiny": 1e-05',
  '    }',
  '   },',
  '   "outputs": [',
  '    {',
  '     "data": {',
  '      "application/vnd.plotly.v1+json": {',
  '       "data": [',
  '        {',
  '         "x": [',
  '          1.0,',
  '          2.0,',
  '          3.5',
  '         ],',
  '         "y": [',
  '          10,',
  '          20,',
  '          30',
  '         ]',
  '        }',
  '       ]',
  '      },',
  '      "text/plain": [',
  '       "Figure"',
  '      ]',
  '     },',
  '     "metadata": {},',
  '     "output_type": "display_data"',
  '    }',
  '   ],',
  '   "source": [',
  '    "fig"',
  '   ]',
  '  }',
  ' ],',
  ' "metadata": {',
  '  "widgets": {',
  '   "application/vnd.jupyter.widget-state+json": {',
  '    "state": {',
  '     "m": {',
  '      "state": {',
  '       "max": 100.0,',
  '       "step": 0.5,',
  '       "value": 1.0',
  '      }',
  '     }',
  '    },',
  '    "version_major": 2,',
  '    "version_minor": 0',
  '   }',
  '  }',
  ' },',
  ' "nbformat": 4,',
  ' "nbformat_minor": 4',
  '}',
  '',
].join('\n');

describe('numbers as Python wrote them', () => {
  it('round-trips integral floats, huge ints and exponents byte for byte through the Y.Doc', () => {
    expect(serializeIpynb(parseIpynb(PYTHON_WRITTEN))).toBe(PYTHON_WRITTEN);
    expect(serializeIpynb(yDocToIpynb(ipynbToYDoc(parseIpynb(PYTHON_WRITTEN))))).toBe(PYTHON_WRITTEN);
  });

  it('keeps them when cells move, and writes a number a user changed as the new value', () => {
    const doc = ipynbToYDoc(parseIpynb(PYTHON_WRITTEN));
    insertCell(doc, { cell_type: 'markdown', source: 'new' }, 0);
    moveCell(doc, 2, 0);
    setCellMetadata(getCells(doc).get(0), 'papermill', { duration: 3, big: 1 });
    const text = serializeIpynb(yDocToIpynb(doc));
    expect(text).toContain('"duration": 3\n');
    expect(text).toContain('"big": 1,');
    expect(text).toContain('"value": 1.0');
    expect(text).toContain('          1.0,\n          2.0,\n          3.5');
  });
});
