import type { LexemeNode } from './number-lexemes.ts';

/** How a JSON file is laid out, for writing a changed notebook the way its file was written. */
export interface JsonLayout {
  /** One level of indentation (nbformat: one space). */
  indent: string;
  /** Key order of the object at `path` (array indices written as `*`); default: sorted by code point. */
  orderKeys?: (keys: string[], path: string) => string[];
  /** Escape every non-ASCII character as `\uXXXX` (Python's ensure_ascii=True). */
  asciiOnly?: boolean;
}

const NBFORMAT_LAYOUT: JsonLayout = { indent: ' ' };

/**
 * `json.dumps(value, sort_keys=True, indent=1, separators=(',', ': '), ensure_ascii=False)` as
 * CPython writes it, which is what nbformat's writer uses; `layout` changes indentation, key order
 * and escaping for files written by other tools.
 */
export function pythonJsonDumps(value: unknown, numbers?: LexemeNode, layout = NBFORMAT_LAYOUT): string {
  const out: string[] = [];
  write(value, '', out, numbers, layout, '');
  return out.join('');
}

function writeString(value: string, layout: JsonLayout): string {
  // JSON.stringify escapes exactly CPython's set for ensure_ascii=False: " \ \b \f \n \r \t and other C0 controls as \u00xx.
  const text = JSON.stringify(value);
  if (!layout.asciiOnly) return text;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: everything outside ASCII is escaped
  return text.replace(/[^\x00-\x7f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function write(
  value: unknown,
  indent: string,
  out: string[],
  numbers: LexemeNode | undefined,
  layout: JsonLayout,
  path: string,
): void {
  if (value === null || value === undefined) {
    out.push('null');
  } else if (typeof value === 'string') {
    out.push(writeString(value, layout));
  } else if (typeof value === 'number') {
    // A float Python wrote as `1.0` comes back from JSON.parse as 1; write it as Python did while unchanged.
    const lexeme = numbers?.lexeme;
    out.push(lexeme && Object.is(lexeme.value, value) ? lexeme.text : pythonNumber(value));
  } else if (typeof value === 'boolean') {
    out.push(value ? 'true' : 'false');
  } else if (Array.isArray(value)) {
    if (value.length === 0) {
      out.push('[]');
      return;
    }
    const inner = `${indent}${layout.indent}`;
    out.push('[');
    for (let i = 0; i < value.length; i++) {
      out.push(i === 0 ? `\n${inner}` : `,\n${inner}`);
      write(value[i], inner, out, numbers?.children?.get(i), layout, `${path}/*`);
    }
    out.push(`\n${indent}]`);
  } else if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const present = Object.keys(record).filter((key) => record[key] !== undefined);
    const sorted = present.sort(compareCodePoints);
    const keys = layout.orderKeys ? layout.orderKeys(sorted, path) : sorted;
    if (keys.length === 0) {
      out.push('{}');
      return;
    }
    const inner = `${indent}${layout.indent}`;
    out.push('{');
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      out.push(i === 0 ? `\n${inner}` : `,\n${inner}`, writeString(key, layout), ': ');
      write(record[key], inner, out, numbers?.children?.get(key), layout, `${path}/${key}`);
    }
    out.push(`\n${indent}}`);
  } else {
    throw new TypeError(`cannot write a ${typeof value} as JSON`);
  }
}

/** Python sorts str keys by code point; JS's default sort compares UTF-16 units, which differs past U+FFFF. */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    const surrogateA = ca >= 0xd800 && ca <= 0xdfff;
    const surrogateB = cb >= 0xd800 && cb <= 0xdfff;
    if (surrogateA === surrogateB) return ca - cb;
    return surrogateA ? 1 : -1;
  }
  return a.length - b.length;
}

/**
 * A number as CPython's json writes it. Integral values are written as ints (JSON numbers carry
 * no int/float distinction once parsed in JS); others follow `float.__repr__`: shortest round-trip
 * digits, scientific notation below 1e-4 and from 1e16 on, two-digit exponents.
 */
export function pythonNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  if (Number.isInteger(value)) return Number.isSafeInteger(value) ? String(value) : BigInt(value).toString();
  return floatRepr(value);
}

/** How Python writes `value` when it is a float, even an integral one (`1.0`, `1e+16`, `-0.0`). */
export function pythonFloatText(value: number): string {
  if (!Number.isFinite(value) || !Number.isInteger(value)) return pythonNumber(value);
  if (Object.is(value, -0)) return '-0.0';
  if (Math.abs(value) < 1e16) return `${BigInt(value)}.0`;
  return floatRepr(value);
}

function floatRepr(value: number): string {
  const [mantissa, exponentText] = value.toExponential().split('e') as [string, string];
  const exponent = Number(exponentText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const sign = negative ? '-' : '';
  if (exponent < -4 || exponent >= 16) {
    const body = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const expSign = exponent < 0 ? '-' : '+';
    return `${sign}${body}e${expSign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  const fraction = digits.slice(exponent + 1) || '0';
  return `${sign}${whole}.${fraction}`;
}
