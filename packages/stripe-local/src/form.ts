/** A decoded request body or query: Stripe's bracket notation (`a[b][0][c]=v`) as nested objects. */
export type FormValue = string | FormObject | FormValue[];
export interface FormObject {
  [key: string]: FormValue;
}

/** Parses `application/x-www-form-urlencoded` with Stripe's bracket notation into nested values. */
export function parseForm(body: string): FormObject {
  const root: FormObject = {};
  for (const [rawKey, value] of new URLSearchParams(body)) {
    const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(rawKey);
    if (!match?.[1]) throw new SyntaxError(`Invalid parameter name: ${rawKey}`);
    const path = [match[1], ...[...(match[2] ?? '').matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1] ?? '')];
    let node: FormObject | FormValue[] = root;
    for (let i = 0; i < path.length; i++) {
      const key = path[i] as string;
      const last = i === path.length - 1;
      const nextIsIndex = !last && /^\d*$/.test(path[i + 1] as string);
      if (Array.isArray(node)) {
        const index = key === '' ? node.length : Number(key);
        if (!Number.isSafeInteger(index) || index > 10_000)
          throw new SyntaxError(`Invalid index in ${rawKey}`);
        if (last) node[index] = value;
        else {
          node[index] ??= nextIsIndex ? [] : {};
          node = node[index] as FormObject | FormValue[];
        }
      } else {
        if (last) node[key] = value;
        else {
          node[key] ??= nextIsIndex ? [] : {};
          node = node[key] as FormObject | FormValue[];
        }
      }
    }
  }
  return compactArrays(root) as FormObject;
}

function compactArrays(value: FormValue): FormValue {
  if (Array.isArray(value)) return value.filter((item) => item !== undefined).map(compactArrays);
  if (typeof value === 'object') {
    const out: FormObject = {};
    for (const [key, item] of Object.entries(value)) out[key] = compactArrays(item);
    return out;
  }
  return value;
}
