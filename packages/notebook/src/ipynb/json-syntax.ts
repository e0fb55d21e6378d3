/** Where and why a JSON text is malformed (JSON.parse's own messages often omit the position). */
export interface JsonSyntaxProblem {
  position: number;
  line: number;
  column: number;
  message: string;
}

class Scanner {
  position = 0;
  constructor(readonly text: string) {}

  fail(message: string): never {
    throw new SyntaxProblem(this.position, message);
  }

  skipSpace(): void {
    while (/[ \t\n\r]/.test(this.text[this.position] ?? '')) this.position++;
  }

  value(): void {
    this.skipSpace();
    const char = this.text[this.position];
    if (char === '{') this.object();
    else if (char === '[') this.array();
    else if (char === '"') this.string();
    else if (char !== undefined && /[-0-9]/.test(char)) this.number();
    else if (this.text.startsWith('true', this.position)) this.position += 4;
    else if (this.text.startsWith('false', this.position)) this.position += 5;
    else if (this.text.startsWith('null', this.position)) this.position += 4;
    else
      this.fail(
        char === undefined
          ? 'unexpected end of file, expected a value'
          : `expected a value, found ${JSON.stringify(char)}`,
      );
  }

  object(): void {
    this.position++;
    this.skipSpace();
    if (this.text[this.position] === '}') {
      this.position++;
      return;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.position] !== '"') this.fail('expected a "quoted" property name');
      this.string();
      this.skipSpace();
      if (this.text[this.position] !== ':') this.fail("expected ':' after a property name");
      this.position++;
      this.value();
      this.skipSpace();
      const next = this.text[this.position];
      this.position++;
      if (next === '}') return;
      if (next !== ',') {
        this.position--;
        this.fail("expected ',' or '}' after a property value");
      }
    }
  }

  array(): void {
    this.position++;
    this.skipSpace();
    if (this.text[this.position] === ']') {
      this.position++;
      return;
    }
    for (;;) {
      this.value();
      this.skipSpace();
      const next = this.text[this.position];
      this.position++;
      if (next === ']') return;
      if (next !== ',') {
        this.position--;
        this.fail("expected ',' or ']' after an array element");
      }
    }
  }

  string(): void {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: JSON forbids raw control characters in strings
    const match = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
    match.lastIndex = this.position;
    if (!match.exec(this.text))
      this.fail('invalid string (unterminated, a raw control character or a bad escape)');
    this.position = match.lastIndex;
  }

  number(): void {
    const match = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?/y;
    match.lastIndex = this.position;
    if (!match.exec(this.text)) this.fail('invalid number');
    this.position = match.lastIndex;
  }
}

class SyntaxProblem extends Error {
  constructor(
    readonly position: number,
    message: string,
  ) {
    super(message);
  }
}

/** The first syntax error in `text`, or null when it is well-formed JSON. */
export function findJsonSyntaxProblem(text: string): JsonSyntaxProblem | null {
  const scanner = new Scanner(text);
  try {
    scanner.value();
    scanner.skipSpace();
    if (scanner.position < text.length) scanner.fail('unexpected text after the end of the JSON value');
    return null;
  } catch (error) {
    if (!(error instanceof SyntaxProblem)) throw error;
    const before = text.slice(0, error.position);
    const line = before.split('\n').length;
    const column = error.position - before.lastIndexOf('\n');
    return { position: error.position, line, column, message: error.message };
  }
}
