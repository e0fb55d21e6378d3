import { describe, expect, it } from 'vitest';
import { definedFunctions, formatMachine, formatNanoDollars, labelFor } from './endpoint-format.ts';

describe('endpoint helpers', () => {
  it('offers the top-level functions of a cell, not nested ones', () => {
    expect(
      definedFunctions(
        'import x\n\ndef predict(a):\n    def inner():\n        pass\n\nasync def fetch(u):\n    pass\n',
      ),
    ).toEqual(['predict', 'fetch']);
    expect(definedFunctions('x = 1')).toEqual([]);
  });

  it('turns function names into labels and micro-dollars into readable prices', () => {
    expect(labelFor('Predict_Price2')).toBe('predict-price2');
    expect(formatNanoDollars(180)).toBe('$1.8e-7');
    expect(formatNanoDollars(37_000)).toBe('$0.000037');
    expect(formatNanoDollars(1_234_500_000)).toBe('$1.2345');
    expect(formatNanoDollars(null)).toBe('—');
  });

  it('names a machine with its GPU choices and image, or says it has none', () => {
    expect(formatMachine({ cpu: 1, memoryMiB: 2048, gpu: [], image: null })).toBe(
      '1 CPU · 2 GB · no GPU · base image',
    );
    expect(formatMachine({ cpu: 0.5, memoryMiB: 1536, gpu: ['A100', 'H100'], image: 'probe' })).toBe(
      '0.5 CPU · 1.5 GB · A100 or H100 · image probe',
    );
  });
});
