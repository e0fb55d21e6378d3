import { describe, expect, it } from 'vitest';
import { parseArguments } from './function-arguments.ts';

describe('parseArguments', () => {
  it('takes a JSON object, and empty text as no arguments', () => {
    expect(parseArguments('{"name": "Kiln", "n": [1, null]}')).toEqual({
      args: { name: 'Kiln', n: [1, null] },
    });
    expect(parseArguments('  ')).toEqual({ args: {} });
  });

  it('says why other text is refused', () => {
    expect(parseArguments('[1]')).toEqual({
      error: 'Arguments must be a JSON object of keyword arguments, such as {"name": "Kiln"}',
    });
    expect(parseArguments('null')).toMatchObject({ error: expect.stringContaining('JSON object') });
    expect(parseArguments('{name: 1}')).toMatchObject({
      error: expect.stringMatching(/^Arguments are not valid JSON/),
    });
  });
});
