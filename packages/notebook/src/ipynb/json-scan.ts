import { pythonFloatText } from './python-json.ts';

/** Where and why a JSON text is malformed (JSON.parse's own messages often omit the position). */
export interface JsonSyntaxProblem {
  position: number;
  line: number;
  column: number;
  message: string;
}

export type JsonPath = (string | number)[];

/**
 * A number JSON.parse cannot keep as Python wrote it: a float with an integral value (`1.0`,
 * `2e3`) or an int beyond 2^53. `text` is what Python's json module writes for it.
 */
export interface NumberLexeme {
  path: JsonPath;
  value: number;
  text: string;
}

class SyntaxProblem extends Error {
  constructor(
    readonly position: number,
    message: string,
  ) {
    super(message);
  }
}

// A loop, not one regular expression: a backtracking pattern overflows V8's stack on strings of
// megabytes (a long output stored as one string) and can go exponential on an unterminated one.
const ESCAPE = /\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;

/**
 * Deepest nesting a notebook may have. The scanner, the converters and JSON.stringify all recurse, so
 * a file nested 100,000 levels deep would overflow the stack (a 500) instead of getting a clear 400.
 */
export const MAX_JSON_DEPTH = 128;

class Scanner {
  position = 0;
  readonly path: JsonPath = [];
  readonly numbers: NumberLexeme[] = [];
  constructor(readonly text: string) {}

  fail(message: string): never {
    throw new SyntaxProblem(this.position, message);
  }

  skipSpace(): void {
    for (;;) {
      const code = this.text.charCodeAt(this.position);
      if (code !== 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) return;
      this.position++;
    }
  }

  value(): void {
    this.skipSpace();
    const char = this.text[this.position];
    if (char === '{') this.object();
    else if (char === '[') this.array();
    else if (char === '"') this.string();
    else if (char === '-' || (char !== undefined && char >= '0' && char <= '9')) this.number();
    else if (this.text.startsWith('true', this.position)) this.position += 4;
    else if (this.text.startsWith('false', this.position)) this.position += 5;
    else if (this.text.startsWith('null', this.position)) this.position += 4;
    else if (char === undefined) this.fail('unexpected end of file, expected a value');
    else this.fail(`expected a value, found ${JSON.stringify(char)}`);
  }

  nest(): void {
    if (this.path.length >= MAX_JSON_DEPTH) this.fail(`the JSON nests deeper than ${MAX_JSON_DEPTH} levels`);
  }

  object(): void {
    this.nest();
    this.position++;
    this.skipSpace();
    if (this.text[this.position] === '}') {
      this.position++;
      return;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.position] !== '"') this.fail('expected a "quoted" property name');
      const start = this.position;
      this.string();
      this.path.push(JSON.parse(this.text.slice(start, this.position)) as string);
      this.skipSpace();
      if (this.text[this.position] !== ':') this.fail("expected ':' after a property name");
      this.position++;
      this.value();
      this.path.pop();
      this.skipSpace();
      const next = this.text[this.position];
      if (next === '}') {
        this.position++;
        return;
      }
      if (next !== ',') this.fail("expected ',' or '}' after a property value");
      this.position++;
    }
  }

  array(): void {
    this.nest();
    this.position++;
    this.skipSpace();
    if (this.text[this.position] === ']') {
      this.position++;
      return;
    }
    for (let index = 0; ; index++) {
      this.path.push(index);
      this.value();
      this.path.pop();
      this.skipSpace();
      const next = this.text[this.position];
      if (next === ']') {
        this.position++;
        return;
      }
      if (next !== ',') this.fail("expected ',' or ']' after an array element");
      this.position++;
    }
  }

  string(): void {
    const text = this.text;
    let i = this.position + 1;
    for (;;) {
      const code = text.charCodeAt(i);
      if (code === 0x22) break;
      if (Number.isNaN(code) || code < 0x20) {
        this.fail('invalid string (unterminated, a raw control character or a bad escape)');
      }
      if (code === 0x5c) {
        ESCAPE.lastIndex = i;
        if (!ESCAPE.test(text))
          this.fail('invalid string (unterminated, a raw control character or a bad escape)');
        i = ESCAPE.lastIndex;
      } else {
        i++;
      }
    }
    this.position = i + 1;
  }

  number(): void {
    NUMBER.lastIndex = this.position;
    const match = NUMBER.exec(this.text);
    if (!match) this.fail('invalid number');
    this.position = NUMBER.lastIndex;
    const lexeme = match[0];
    const value = Number(lexeme);
    if (match[1] !== undefined || match[2] !== undefined) {
      if (Number.isInteger(value))
        this.numbers.push({ path: [...this.path], value, text: pythonFloatText(value) });
    } else if (!Number.isSafeInteger(value)) {
      this.numbers.push({ path: [...this.path], value, text: BigInt(lexeme).toString() });
    }
  }
}

export type JsonScan = { ok: true; numbers: NumberLexeme[] } | { ok: false; problem: JsonSyntaxProblem };

/**
 * Check `text` is JSON and collect the numbers JavaScript would change (integral floats, huge
 * ints), or describe the first syntax error with its line and column.
 */
export function scanJson(text: string): JsonScan {
  const scanner = new Scanner(text);
  try {
    scanner.value();
    scanner.skipSpace();
    if (scanner.position < text.length) scanner.fail('unexpected text after the end of the JSON value');
    return { ok: true, numbers: scanner.numbers };
  } catch (error) {
    if (!(error instanceof SyntaxProblem)) throw error;
    const before = text.slice(0, error.position);
    const line = before.split('\n').length;
    const column = error.position - before.lastIndexOf('\n');
    return { ok: false, problem: { position: error.position, line, column, message: error.message } };
  }
}
