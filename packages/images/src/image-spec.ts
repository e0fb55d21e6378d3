import { createHash } from 'node:crypto';
import { DomainError } from '@kiln/core';

/** What a workspace image adds to Kiln's base image: Debian packages and Python requirements. */
export interface ImageSpec {
  /** Debian package names (optionally `name=version`), sorted and without duplicates. */
  debian: string[];
  /** pip requirements (`name`, `name==1.2`, `name[extra]>=1,<2`), sorted and without duplicates. */
  python: string[];
}

export const MAX_PACKAGES = 100;

// Debian policy: lower case letters, digits, + - . ; at least two characters, starting alphanumeric.
const DEBIAN_NAME = /^[a-z0-9][a-z0-9+.-]{1,99}(=[A-Za-z0-9.+~:-]{1,100})?$/;
// PEP 508 names with optional extras and version specifiers; never a URL, a path or a pip option.
const PY_NAME = '[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9])?';
const PY_VERSION = '(?:===|==|!=|<=|>=|~=|<|>)\\s*[A-Za-z0-9.*+!_-]{1,60}';
const PYTHON_REQUIREMENT = new RegExp(
  `^${PY_NAME}(?:\\[${PY_NAME}(?:,${PY_NAME}){0,9}\\])?(?:\\s*${PY_VERSION}(?:\\s*,\\s*${PY_VERSION}){0,4})?$`,
);

function normalizeList(
  values: unknown,
  field: 'debian' | 'python',
  pattern: RegExp,
  example: string,
): string[] {
  if (values === undefined) return [];
  if (!Array.isArray(values))
    throw new DomainError('VALIDATION_FAILED', `${label(field)} must be a list`, { field });
  if (values.length > MAX_PACKAGES)
    throw new DomainError('VALIDATION_FAILED', `At most ${MAX_PACKAGES} ${label(field)}`, { field });
  const out = new Set<string>();
  for (const raw of values) {
    // Spaces only go where a requirement allows them, around its version operators and commas.
    const value = typeof raw === 'string' ? raw.trim().replace(/\s*([<>=!~,]+)\s*/g, '$1') : raw;
    if (typeof value !== 'string' || !pattern.test(value)) {
      throw new DomainError(
        'VALIDATION_FAILED',
        `${JSON.stringify(String(raw).slice(0, 120))} is not a valid entry of ${label(field)} (like ${example})`,
        { field },
      );
    }
    out.add(value);
  }
  return [...out].sort();
}

function label(field: 'debian' | 'python'): string {
  return field === 'debian' ? 'Debian packages' : 'Python packages';
}

/** Validates and normalizes an image spec; bad entries throw VALIDATION_FAILED naming the entry. */
export function parseImageSpec(input: { debian?: unknown; python?: unknown }): ImageSpec {
  return {
    debian: normalizeList(input.debian, 'debian', DEBIAN_NAME, '"cowsay" or "sl=5.02-1"'),
    python: normalizeList(input.python, 'python', PYTHON_REQUIREMENT, '"requests" or "rich==13.7.1"'),
  };
}

/** Splits text with one package per line or separated by commas/spaces (what the image form takes). */
export function splitPackageList(text: string): string[] {
  return text
    .split(/[\n,]+/)
    .map((line) => line.replace(/#.*$/, '').trim())
    .flatMap((line) => (/[<>=!~]/.test(line) ? [line] : line.split(/\s+/)))
    .filter(Boolean);
}

/** True when the spec adds nothing: kernels then run on the base image itself. */
export function isEmptySpec(spec: ImageSpec): boolean {
  return spec.debian.length === 0 && spec.python.length === 0;
}

/**
 * The content hash of a built image: the base image it starts from, the sorted package lists and the
 * Python index (another index may serve other files under the same names). Same inputs, same key.
 */
export function imageKey(input: { baseImageId: string; spec: ImageSpec; pipIndexUrl?: string }): string {
  const hash = createHash('sha256');
  hash.update(
    JSON.stringify({
      v: 1,
      base: input.baseImageId,
      debian: [...input.spec.debian].sort(),
      python: [...input.spec.python].sort(),
      index: input.spec.python.length > 0 ? (input.pipIndexUrl ?? '') : '',
    }),
  );
  return hash.digest('hex').slice(0, 16);
}
