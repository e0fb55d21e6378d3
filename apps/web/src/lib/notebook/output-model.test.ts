import { describe, expect, it } from 'vitest';
import { outputLines, pickMime, truncationOf, withoutOverflowKey } from './output-model.ts';

describe('output model', () => {
  it('prefers the richest representation, as Jupyter does', () => {
    expect(pickMime({ 'text/plain': 'df', 'text/html': '<table/>' })).toBe('text/html');
    expect(pickMime({ 'text/plain': '<Figure>', 'image/png': 'iVBOR' })).toBe('image/png');
    expect(pickMime({ 'text/plain': '{}', 'application/json': {} })).toBe('application/json');
    expect(pickMime({})).toBeNull();
  });

  it('finds the truncation note and its download key', () => {
    const stream = {
      output_type: 'stream',
      name: 'stdout',
      text: 'lots\n[output truncated: 12.3 MB total; download the full output] kiln-overflow:c1-abc-1',
    };
    expect(truncationOf(stream)).toEqual({
      note: '[output truncated: 12.3 MB total; download the full output]',
      key: 'c1-abc-1',
    });
    const keyed = {
      output_type: 'display_data',
      data: {
        'text/plain': '[output truncated: 3 more outputs (1.0 kB) not shown; download the full output]',
      },
      metadata: { kiln: { overflow_key: 'c1-abc-2' } },
    };
    expect(truncationOf(keyed)?.key).toBe('c1-abc-2');
    expect(truncationOf({ output_type: 'stream', name: 'stdout', text: 'fine' })).toBeNull();
    expect(withoutOverflowKey('[output truncated: 1 kB total] kiln-overflow:c1-abc-1\nmore')).toBe(
      '[output truncated: 1 kB total]\nmore',
    );
  });

  it('counts lines and images for height estimates', () => {
    expect(
      outputLines([
        { output_type: 'stream', name: 'stdout', text: 'a\nb\nc' },
        { output_type: 'display_data', data: { 'image/png': 'x' }, metadata: {} },
      ]),
    ).toEqual({ lines: 3, images: 1 });
  });
});
