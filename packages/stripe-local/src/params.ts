import { invalid, missing, unknown } from './errors.ts';
import type { FormObject, FormValue } from './form.ts';

/** What a parameter may be, as Stripe's spec says: text, a whole number, a flag, a free map, an object, a list. */
export type Spec =
  | 'string'
  | 'integer'
  | 'boolean'
  | 'map'
  | { object: Record<string, Spec>; required?: string[] }
  | { array: Spec };

/**
 * Checks params against `spec` the way Stripe does: an unknown parameter or a missing required one is
 * refused with its name, and values of the wrong kind are refused too.
 */
export function validate(params: FormObject, spec: Record<string, Spec>, required: string[] = []): void {
  check(params, { object: spec, required }, '');
}

function check(value: FormValue, spec: Spec, path: string): void {
  if (spec === 'string') {
    if (typeof value !== 'string') throw invalid(path, `Invalid string: ${path}`);
    return;
  }
  if (spec === 'integer') {
    if (typeof value !== 'string' || !/^-?\d{1,15}$/.test(value))
      throw invalid(path, `Invalid integer: ${String(value)}`);
    return;
  }
  if (spec === 'boolean') {
    if (value !== 'true' && value !== 'false') throw invalid(path, `Invalid boolean: ${String(value)}`);
    return;
  }
  if (spec === 'map') {
    if (typeof value === 'string' && value === '') return;
    if (typeof value !== 'object' || Array.isArray(value)) throw invalid(path, `Invalid object: ${path}`);
    for (const [key, item] of Object.entries(value))
      if (typeof item !== 'string') throw invalid(`${path}[${key}]`, `Invalid string: ${path}[${key}]`);
    return;
  }
  if ('array' in spec) {
    if (!Array.isArray(value)) throw invalid(path, `Invalid array: ${path}`);
    for (const [i, item] of value.entries()) check(item, spec.array, `${path}[${i}]`);
    return;
  }
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(path, `Invalid object: ${path}`);
  const name = (key: string) => (path ? `${path}[${key}]` : key);
  for (const key of Object.keys(value)) if (!(key in spec.object)) throw unknown(name(key));
  for (const key of spec.required ?? [])
    if (value[key] === undefined || value[key] === '') throw missing(name(key));
  for (const [key, item] of Object.entries(value)) check(item, spec.object[key] as Spec, name(key));
}
