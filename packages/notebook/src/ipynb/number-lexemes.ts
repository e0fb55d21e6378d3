import type { JsonPath, NumberLexeme } from './json-scan.ts';

/**
 * Numbers of a parsed notebook that JavaScript cannot hold as Python wrote them, kept beside the
 * notebook object (JSON has one number type; Python's json has int and float).
 */
const registry = new WeakMap<object, NumberLexeme[]>();

export function setNumberLexemes(nb: object, numbers: NumberLexeme[]): void {
  if (numbers.length > 0) registry.set(nb, numbers);
  else registry.delete(nb);
}

export function getNumberLexemes(nb: object): NumberLexeme[] {
  return registry.get(nb) ?? [];
}

/** A path-indexed tree of lexemes, walked alongside the value being written. */
export interface LexemeNode {
  lexeme?: NumberLexeme;
  children?: Map<string | number, LexemeNode>;
}

export function lexemeTree(numbers: NumberLexeme[]): LexemeNode | undefined {
  if (numbers.length === 0) return undefined;
  const root: LexemeNode = {};
  for (const number of numbers) {
    let node = root;
    for (const key of number.path) {
      node.children ??= new Map();
      let child = node.children.get(key);
      if (!child) {
        child = {};
        node.children.set(key, child);
      }
      node = child;
    }
    node.lexeme = number;
  }
  return root;
}

/** The value at `path` in a JSON value, or undefined. */
export function valueAt(root: unknown, path: JsonPath): unknown {
  let value = root;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}
